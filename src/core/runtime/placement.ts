/**
 * Node placement from onnxruntime's own profiler: which provider ran each node of the optimised graph. The worker
 * profiles the warm-up run of a GPU session (once per session) and hands the profile's events here.
 *
 * Why the profile and not the verbose log: onnxruntime-node writes its log to the native stderr of the worker
 * process, where a thread of the same process cannot read it, while the profile is a JSON file whose node events
 * carry `args.provider` and `args.op_name` (Chrome trace format, the same in every ORT release since 1.5).
 */
import type { NodePlacement } from '../../shared/analysis';

const CPU_PROVIDER = 'CPUExecutionProvider';
const MEMCPY_OPS = new Set(['MemcpyToHost', 'MemcpyFromHost']);
const KERNEL_SUFFIX = '_kernel_time';

interface NodeEvent {
  cat?: unknown;
  name?: unknown;
  args?: { provider?: unknown; op_name?: unknown };
}

/**
 * Placement from the parsed profile (an array of trace events). Each node is counted once, however many runs the
 * profile holds. Throws when the profile has no node events (nothing was profiled), so the caller can say why.
 */
export function placementFromProfile(events: unknown): NodePlacement {
  if (!Array.isArray(events)) throw new Error('the onnxruntime profile is not a JSON array of trace events');
  const providerOf = new Map<string, { provider: string; op: string }>();
  for (const raw of events as NodeEvent[]) {
    if (!raw || raw.cat !== 'Node' || typeof raw.name !== 'string' || !raw.name.endsWith(KERNEL_SUFFIX)) continue;
    const provider = raw.args?.provider;
    const op = raw.args?.op_name;
    if (typeof provider !== 'string' || typeof op !== 'string') continue;
    providerOf.set(raw.name.slice(0, -KERNEL_SUFFIX.length), { provider, op });
  }
  if (providerOf.size === 0) throw new Error('the onnxruntime profile has no node events');
  let gpu = 0;
  let cpu = 0;
  let memcpy = 0;
  const gpuProviders = new Map<string, number>();
  const cpuOps = new Map<string, number>();
  for (const { provider, op } of providerOf.values()) {
    if (provider === CPU_PROVIDER) {
      cpu++;
      cpuOps.set(op, (cpuOps.get(op) ?? 0) + 1);
      continue;
    }
    gpuProviders.set(provider, (gpuProviders.get(provider) ?? 0) + 1);
    if (MEMCPY_OPS.has(op)) memcpy++;
    else gpu++;
  }
  const ops = [...cpuOps.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const gpuProvider = [...gpuProviders.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
  return {
    gpu_nodes: gpu,
    cpu_nodes: cpu,
    cpu_ops: ops.map(([op]) => op),
    cpu_op_counts: Object.fromEntries(ops),
    memcpy_nodes: memcpy,
    gpu_provider: gpuProvider,
    source: 'onnxruntime-profile',
  };
}
