import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Repo root, found by walking up: tests run from out/test/... */
export const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'out') {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repo root not found');
    dir = up;
  }
  return dir;
})();

export const TINY_MODEL_DIR = path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-damoe');
/** Tiny causal DA-MoE LMs (make-tiny-damoe.py): in-graph next-token outputs, and the same weights with full logits. */
export const TINY_LM_DIR = path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-damoe-lm');
export const TINY_LM_LOGITS_DIR = path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-damoe-lm-logits');
export const SHIPPED_LM_DIR = path.join(ROOT, 'models', 'damoe-lm-sst2');
export const CONTRACT_FIXTURES = path.join(ROOT, 'test', 'fixtures', 'models', 'contract');
export const WORDPIECE_TOKENIZER = path.join(ROOT, 'test', 'fixtures', 'tokenizers', 'wordpiece.tokenizer.json');
export const SHIPPED_DAMOE_DIR = path.join(ROOT, 'models', 'damoe-sst2');

/** A temporary model directory holding contract fixture `name` as model.onnx (+ the WordPiece tokenizer). */
export function contractFixtureDir(name: string, opts: { tokenizer?: boolean } = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `damoe-${name}-`));
  fs.copyFileSync(path.join(CONTRACT_FIXTURES, `${name}.onnx`), path.join(dir, 'model.onnx'));
  if (opts.tokenizer ?? true) fs.copyFileSync(WORDPIECE_TOKENIZER, path.join(dir, 'tokenizer.json'));
  return dir;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}
