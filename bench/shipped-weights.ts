/**
 * Where a shipped model's PyTorch weights are: training/export.py records the training run and the router settings
 * it applied (e.g. DA-MoE's k_scale) in models/NAME/metrics.json, so a benchmark compares onnxruntime against
 * PyTorch on exactly the same weights and routing rule.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TorchSource {
  runDir: string;
  routerOverrides: Record<string, unknown>;
}

export function torchSourceFor(root: string, modelDir: string, runDirOverride?: string): TorchSource {
  let recorded: { run_dir?: string; router_overrides?: Record<string, unknown> } = {};
  try {
    recorded = JSON.parse(fs.readFileSync(path.join(modelDir, 'metrics.json'), 'utf8'));
  } catch {
    // No metrics.json (a model of the user's own): fall back to the naming convention of training/train.sh.
  }
  const runDir =
    runDirOverride ?? (recorded.run_dir ? path.join(root, recorded.run_dir) : path.join(root, 'training', 'runs', path.basename(modelDir)));
  return { runDir, routerOverrides: recorded.router_overrides ?? {} };
}
