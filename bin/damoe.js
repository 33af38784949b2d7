#!/usr/bin/env node
'use strict';
// Shim for `npx damoe`: runs the compiled CLI (tsc puts it in out/src/cli/main.js; `npm run build` makes it).
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const candidates = [path.join(root, 'out', 'src', 'cli', 'main.js'), path.join(root, 'dist', 'cli.js')];
const entry = candidates.find((file) => fs.existsSync(file));
if (!entry) {
  process.stderr.write(
    `damoe: the CLI has not been built (${path.relative(process.cwd(), candidates[0]) || candidates[0]} is missing).\n` +
      `Run 'npm run build' (or 'npx tsc -p .') in ${root} first.\n`,
  );
  process.exit(1);
}
require(entry)
  .run(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
