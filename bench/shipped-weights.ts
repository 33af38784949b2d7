/**
 * Where a model's PyTorch weights come from for the benchmarks' PyTorch peer.
 *
 * By default the peer is rebuilt from the model's own `model.onnx` (bench/onnx_peer.py maps its initializers onto
 * training/damoe/model.py's MoEClassifier, with the router configuration from the `moe.contract` metadata), so a
 * fresh clone compares onnxruntime against PyTorch on exactly the same weights and routing rule without a training
 * run. `--checkpoint-run DIR` uses a training run's `DIR/best.pt` instead, with the router settings that
 * training/export.py recorded in models/NAME/metrics.json (`router_overrides`).
 */
import * as path from 'node:path';

export type TorchSource = { kind: 'onnx'; onnx: string } | { kind: 'checkpoint'; runDir: string; routerOverrides: Record<string, unknown> };

export function torchSourceFor(modelDir: string, runDirOverride?: string, routerOverrides: Record<string, unknown> = {}): TorchSource {
  if (runDirOverride) return { kind: 'checkpoint', runDir: runDirOverride, routerOverrides };
  return { kind: 'onnx', onnx: path.join(modelDir, 'model.onnx') };
}

/** The request fields that bench/torch_model.py load_model reads. */
export function torchRequest(source: TorchSource): Record<string, unknown> {
  return source.kind === 'onnx' ? { onnx: source.onnx } : { run_dir: source.runDir, router_overrides: source.routerOverrides };
}

export function describeTorchSource(source: TorchSource): string {
  return source.kind === 'onnx'
    ? `rebuilt from ${source.onnx}'s own weights (bench/onnx_peer.py)`
    : `${source.runDir}/best.pt ${JSON.stringify(source.routerOverrides)}`;
}
