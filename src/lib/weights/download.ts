import * as fs from 'fs';
import { sha256File } from '../io/sha256File';
import * as http from 'http';
import * as https from 'https';
import { ProgressBar } from '../progress';

export class DownloadError extends Error {}

export interface DownloadOptions {
  /** torchvision's file names carry the first hex digits of the SHA-256 (torch.hub's check). */
  sha256Prefix?: string;
  /** Attempts after a dropped connection, each resuming where the last stopped. */
  retries?: number;
  onLine?: (line: string) => void;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  sha256: string;
  /** Bytes already on disk (FILE.part) when this call started. */
  resumedFrom: number;
  attempts: number;
}

const OFFLINE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH']);

function get(url: string, headers: Record<string, string>, redirects = 5): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { headers }, (res) => {
      const to = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && to) {
        res.resume();
        if (redirects === 0) return reject(new DownloadError(`${url}: too many redirects`));
        return resolve(get(new URL(to, url).toString(), headers, redirects - 1));
      }
      resolve(res);
    });
    req.on('error', reject);
  });
}

/** Appends (206) or rewrites (200) FILE.part from one response; resolves when the body ends. */
function receive(res: http.IncomingMessage, part: string, append: boolean, bar: { add(n: number): void }): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      sink.end(() => reject(e));
    };
    res.on('data', (chunk: Buffer) => bar.add(chunk.length));
    res.on('aborted', () => fail(new Error('connection closed before the end')));
    res.on('error', fail);
    sink.on('error', fail);
    res.pipe(sink);
    sink.on('finish', () => {
      if (!failed) resolve();
    });
  });
}

/**
 * Downloads `url` to `dest` through `dest.part`: a dropped connection (or a killed process) leaves
 * the part file, and the next attempt asks for the rest with an HTTP Range request. The file only
 * takes its final name after its checksum matched.
 */
export async function downloadFile(url: string, dest: string, o: DownloadOptions = {}): Promise<DownloadResult> {
  const part = `${dest}.part`;
  const resumedFrom = fs.existsSync(part) ? fs.statSync(part).size : 0;
  const retries = o.retries ?? 5;
  let attempts = 0;
  let total = 0;
  for (;;) {
    attempts++;
    const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
    try {
      const res = await get(url, have > 0 ? { Range: `bytes=${have}-` } : {});
      if (res.statusCode === 416 && have > 0) {
        res.resume(); // the part file already holds everything
        break;
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.resume();
        throw new DownloadError(`${url}: HTTP ${res.statusCode}`);
      }
      const append = res.statusCode === 206;
      const length = Number(res.headers['content-length'] ?? 0);
      total = (append ? have : 0) + length;
      const bar = new ProgressBar(`download ${dest.split(/[\\/]/).pop()} (MB)`, Math.max(1, Math.round(total / 1e6)), o.onLine ?? null);
      let received = append ? have : 0;
      await receive(res, part, append, { add: (n) => bar.update(Math.round((received += n) / 1e6)) }).finally(() => bar.stop());
      if (length > 0 && fs.statSync(part).size < total) throw new Error(`received ${fs.statSync(part).size} of ${total} bytes`);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (e instanceof DownloadError) throw e;
      if (OFFLINE.has(code)) {
        throw new DownloadError(`cannot reach ${new URL(url).host} (${code}). Download ${url} on a machine with internet and put it at ${dest}, then run: vii weights convert ${dest}`);
      }
      if (attempts > retries) throw new DownloadError(`${url}: ${(e as Error).message} after ${attempts} attempts; ${part} is kept, run the command again to resume`);
      o.onLine?.(`download interrupted (${(e as Error).message}); resuming (attempt ${attempts + 1})`);
    }
  }
  const sha256 = sha256File(part);
  if (o.sha256Prefix && !sha256.startsWith(o.sha256Prefix)) {
    fs.rmSync(part, { force: true });
    throw new DownloadError(`${url}: SHA-256 ${sha256} does not start with ${o.sha256Prefix} as the file name promises; the download was removed, run the command again`);
  }
  fs.renameSync(part, dest);
  return { file: dest, bytes: fs.statSync(dest).size, sha256, resumedFrom, attempts };
}
