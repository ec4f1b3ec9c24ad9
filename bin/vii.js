#!/usr/bin/env node
// `npx vii ...`: runs the TypeScript CLI through tsx (no build step).
const path = require('path');
require('tsx/cjs');
const cli = require(path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
cli.main(process.argv.slice(2)).catch((e) => {
  console.error(`vii: ${e.message}`);
  process.exit(cli.exitCode(e)); // 2 for a bad command line, 1 for anything else
});
