#!/usr/bin/env node
/**
 * Import cycles in src/, type-only imports included (part of `npm run lint`).
 *
 * ESLint's import-x/no-cycle skips `import type`, but a type-only cycle still means a module knows its parent (the
 * extension's controller and its spot-check feature once imported each other's types). This walks every relative
 * import, export-from and dynamic import() of src/**\/*.ts and fails on any strongly connected group of modules.
 */
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src'];

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(resolve(p));
  }
};
for (const r of roots) walk(join(root, r));

const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;
const resolveImport = (from, spec) => {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, join(base, 'index.ts')]) if (c.endsWith('.ts') && existsSync(c) && statSync(c).isFile()) return c;
  return null; // CSS, JSON and packages are not modules of ours
};

const graph = new Map(files.map((f) => [f, []]));
for (const f of files) {
  const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
  for (const m of text.matchAll(SPECIFIER)) {
    const target = resolveImport(f, m[2]);
    if (target && graph.has(target)) graph.get(f).push(target);
  }
}

// Tarjan's strongly connected components.
let index = 0;
const stack = [];
const info = new Map();
const cycles = [];
const visit = (v) => {
  info.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v)) {
    if (!info.has(w)) {
      visit(w);
      info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
    } else if (info.get(w).onStack) info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
  }
  if (info.get(v).low === info.get(v).index) {
    const group = [];
    let w;
    do {
      w = stack.pop();
      info.get(w).onStack = false;
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || graph.get(v).includes(v)) cycles.push(group);
  }
};
for (const f of files) if (!info.has(f)) visit(f);

if (cycles.length === 0) process.exit(0);
for (const group of cycles) {
  const names = group.map((f) => relative(root, f)).sort();
  console.error(`check-cycles: import cycle (type-only imports count) between:\n  ${names.join('\n  ')}`);
}
console.error('Break it: move the shared type to the lower module or to src/shared (see ARCHITECTURE.md, "Layers").');
process.exit(1);
