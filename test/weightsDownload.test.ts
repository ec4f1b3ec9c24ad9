import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as http from 'http';
import * as crypto from 'crypto';
import type { AddressInfo } from 'net';
import { downloadFile, DownloadError } from '../src/lib/weights/download';
import { tempDir } from './helpers/fixtures';

const BODY = crypto.randomBytes(3_000_000);
const SHA = crypto.createHash('sha256').update(BODY).digest('hex');

/** Serves BODY with Range support; the first `drops` responses are cut off after `cutAt` bytes. */
async function server(o: { drops: number; cutAt: number }) {
  const seen: (string | undefined)[] = [];
  let drops = o.drops;
  const s = http.createServer((req, res) => {
    if (req.url !== '/vgg16-abc.pth') {
      res.writeHead(404).end();
      return;
    }
    seen.push(req.headers.range);
    const from = req.headers.range ? Number(/bytes=(\d+)-/.exec(req.headers.range)![1]) : 0;
    if (from >= BODY.length) {
      res.writeHead(416).end();
      return;
    }
    const rest = BODY.subarray(from);
    res.writeHead(from ? 206 : 200, { 'Content-Length': rest.length, ...(from ? { 'Content-Range': `bytes ${from}-${BODY.length - 1}/${BODY.length}` } : {}) });
    if (drops > 0) {
      drops--;
      res.write(rest.subarray(0, o.cutAt), () => res.destroy());
    } else res.end(rest);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => s.close(r)) };
}

test('a dropped download resumes with a Range request and ends with the exact bytes', async () => {
  const srv = await server({ drops: 2, cutAt: 1_000_000 });
  const dest = path.join(tempDir(), 'vgg16-abc.pth');
  try {
    const r = await downloadFile(`${srv.url}/vgg16-abc.pth`, dest, { sha256Prefix: SHA.slice(0, 8), onLine: () => {} });
    assert.equal(r.attempts, 3);
    assert.equal(r.sha256, SHA);
    assert.ok(fs.readFileSync(dest).equals(BODY));
    // Each retry asks for the rest from what had arrived (up to the cut; TCP may deliver less).
    assert.equal(srv.seen[0], undefined);
    const offsets = srv.seen.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1]));
    assert.ok(offsets[0] > 0 && offsets[0] <= 1_000_000 && offsets[1] > offsets[0] && offsets[1] <= offsets[0] + 1_000_000, `ranges ${srv.seen}`);
    assert.ok(!fs.existsSync(`${dest}.part`));
  } finally {
    await srv.close();
  }
});

test('a part file left by a killed process is resumed, not downloaded again', async () => {
  const srv = await server({ drops: 0, cutAt: 0 });
  const dest = path.join(tempDir(), 'vgg16-abc.pth');
  fs.writeFileSync(`${dest}.part`, BODY.subarray(0, 1234));
  try {
    const r = await downloadFile(`${srv.url}/vgg16-abc.pth`, dest, { sha256Prefix: SHA.slice(0, 8), onLine: () => {} });
    assert.equal(r.resumedFrom, 1234);
    assert.deepEqual(srv.seen, ['bytes=1234-']);
    assert.ok(fs.readFileSync(dest).equals(BODY));
  } finally {
    await srv.close();
  }
});

test('a checksum mismatch, an HTTP error and no network each fail with what to do, and leave no file behind', async () => {
  const srv = await server({ drops: 0, cutAt: 0 });
  const dir = tempDir();
  const dest = path.join(dir, 'vgg16-abc.pth');
  try {
    await assert.rejects(downloadFile(`${srv.url}/vgg16-abc.pth`, dest, { sha256Prefix: 'deadbeef', onLine: () => {} }), (e: Error) => e instanceof DownloadError && /does not start with deadbeef/.test(e.message));
    assert.ok(!fs.existsSync(dest) && !fs.existsSync(`${dest}.part`));
    await assert.rejects(downloadFile(`${srv.url}/missing.pth`, dest, { onLine: () => {} }), /missing\.pth: HTTP 404/);
  } finally {
    await srv.close();
  }
  // A port nothing listens on stands in for an offline machine.
  const closed = await server({ drops: 0, cutAt: 0 });
  await closed.close();
  await assert.rejects(downloadFile(`${closed.url}/vgg16-abc.pth`, dest, { onLine: () => {} }), (e: Error) => /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)\. Download .* and put it at .*vgg16-abc\.pth, then run: vii weights convert/.test(e.message));
  assert.ok(!fs.existsSync(dest));
});
