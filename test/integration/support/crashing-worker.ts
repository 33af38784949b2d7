/**
 * A stand-in model worker for the crash-report tests (a real process speaking the worker protocol): on load it
 * writes provider-probe lines with ANSI colours to stderr, as onnxruntime's CUDA and Vulkan probes do; on a run it
 * writes its own line and exits with code 3.
 */
import type { HostToWorker, WorkerToHost } from '../../../src/core/runtime/protocol';

const send = (m: WorkerToHost): void => void process.send?.(m);
setInterval(() => send({ type: 'heartbeat' }), 200);
process.on('message', (m: HostToWorker) => {
  if (m.type === 'load') {
    process.stderr.write('\u001b[1;31mEP Error: CUDA execution provider is not available\u001b[0m\n');
    process.stderr.write('\u001b[33mvulkan: no ICD found\u001b[0m\n');
    send({
      type: 'loaded',
      provider: { requested: m.provider, used: 'cpu', skipped: [] },
      io: { inputs: [], outputs: [] },
      warmupMs: 1,
    });
  } else if (m.type === 'run') {
    process.stderr.write('\u001b[1mterminate called: the crashed run said this\u001b[0m\n', () => process.exit(3));
  } else if (m.type === 'dispose') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
