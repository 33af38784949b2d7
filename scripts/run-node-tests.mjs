// Runs node's test runner over every *.test.js under the given folders (Node 20's --test takes no globs).
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
for (const r of roots) {
  if (!existsSync(r)) {
    console.error(`run-node-tests: ${r} does not exist (build first: npm run build)`);
    process.exit(2);
  }
  walk(r);
}
if (files.length === 0) {
  console.error(`run-node-tests: no *.test.js under ${roots.join(', ')}`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
