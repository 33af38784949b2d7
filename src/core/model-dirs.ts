/**
 * Where the shipped models are: models/<name>/ under the package root. The root is found by walking up from this
 * file, which lives at out/src/core/ under tsc and inside dist/ when bundled, so both layouts resolve.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MODEL_FILE } from './contract';
import { EngineError } from './errors';
import { DEFAULT_MODEL_NAME } from '../shared/defaults';

export const PACKAGE_NAME = 'damoe-inspector';
export const SHIPPED_MODEL_NAMES = ['damoe-sst2', 'damoe-lm-sst2', 'switch-sst2', 'top2-sst2'] as const;

/** The directory of the damoe-inspector package.json above `from`; null when there is none. */
export function packageRoot(from: string = __dirname): string | null {
  let dir = path.resolve(from);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export function shippedModelsDir(from?: string): string | null {
  const root = packageRoot(from);
  return root ? path.join(root, 'models') : null;
}

/** models/damoe-sst2 of this package (it may not exist yet: the caller reports that). */
export function defaultModelDir(from?: string): string | null {
  const dir = shippedModelsDir(from);
  return dir ? path.join(dir, DEFAULT_MODEL_NAME) : null;
}

/** Model directories under models/ that hold a model.onnx, the default model first. */
export function listShippedModels(from?: string): string[] {
  const dir = shippedModelsDir(from);
  if (!dir || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, MODEL_FILE)))
    .map((d) => d.name)
    .sort((a, b) => Number(b === DEFAULT_MODEL_NAME) - Number(a === DEFAULT_MODEL_NAME) || a.localeCompare(b))
    .map((name) => path.join(dir, name));
}

/**
 * A model named on the command line (`damoe compare --models damoe-sst2,top2-sst2`): an existing folder (a path),
 * else a shipped model of that name (models/<name>). Throws 'model-not-found' naming the shipped models.
 */
export function modelDirByName(entry: string, cwd: string = process.cwd()): string {
  const asPath = path.resolve(cwd, entry);
  if (fs.existsSync(asPath) && fs.statSync(asPath).isDirectory()) return asPath;
  const shipped = shippedModelsDir();
  if (shipped && !/[\\/]/.test(entry) && fs.existsSync(path.join(shipped, entry, MODEL_FILE))) return path.join(shipped, entry);
  const names = listShippedModels().map((d) => path.basename(d));
  throw new EngineError(
    'model-not-found',
    `No model '${entry}': not a folder, nor a shipped model${names.length ? ` (shipped: ${names.join(', ')})` : ''}. Give a shipped model's name or a model folder.`,
  );
}
