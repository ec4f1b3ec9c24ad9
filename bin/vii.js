#!/usr/bin/env node
// `npx vii ...`: runs the TypeScript CLI through tsx (no build step).
const path = require('path');
require('tsx/cjs');
require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')).main(process.argv.slice(2)).catch((e) => {
  console.error(`vii: ${e.message}`);
  process.exit(1);
});
