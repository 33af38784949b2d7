/** Messages between the host (ModelRuntime) and the worker process (worker.ts). */
import type { ExecutionProviderChoice, ExpertCompute, ProviderReport } from '../../shared/analysis';
import type { ModelIO, TensorMap } from './tensors';

/**
 * The worker's file descriptor of its heartbeat pipe (the fifth stdio entry of the fork: stdin, stdout, stderr,
 * the IPC channel, then this). Passed to the worker as `--heartbeat-fd`.
 */
export const HEARTBEAT_FD = 4;

export interface LoadMessage {
  type: 'load';
  modelPath: string;
  provider: ExecutionProviderChoice;
  threads: number;
  /** Sequence length of the warm-up run. */
  warmupLength: number;
  /** GPU providers run this graph instead of modelPath: the folder's model.gpu.onnx, checked by the host (gpu-graph.ts). */
  gpuGraph?: GpuGraphLoad;
  /** Why the folder's model.gpu.onnx is not used; reported when a GPU provider runs model.onnx instead. */
  gpuGraphProblem?: string;
}

export interface GpuGraphLoad {
  path: string;
  expertCompute: ExpertCompute;
}

export interface RunMessage {
  type: 'run';
  id: number;
  feeds: TensorMap;
}

export interface CancelMessage {
  type: 'cancel';
  id: number;
}

export interface DisposeMessage {
  type: 'dispose';
}

export type HostToWorker = LoadMessage | RunMessage | CancelMessage | DisposeMessage;

export interface LoadedMessage {
  type: 'loaded';
  provider: ProviderReport;
  io: ModelIO;
  warmupMs: number;
}

export interface LoadFailedMessage {
  type: 'load-failed';
  /** 'provider-unavailable': a forced provider failed; 'model-load-failed': no provider could load the model. */
  code: 'provider-unavailable' | 'model-load-failed';
  message: string;
  details: string[];
}

export interface ResultMessage {
  type: 'result';
  id: number;
  outputs: TensorMap;
  ms: number;
}

export interface RunErrorMessage {
  type: 'run-error';
  id: number;
  message: string;
}

/**
 * A sign of life over IPC, from a worker started without a heartbeat pipe (stand-in workers in tests). The model
 * worker beats on its heartbeat pipe instead (HEARTBEAT_FD: one byte per period from a thread of its own), because
 * its main thread, which owns the IPC channel, is busy while a model runs. The host counts either.
 */
export interface HeartbeatMessage {
  type: 'heartbeat';
}

export type WorkerToHost = LoadedMessage | LoadFailedMessage | ResultMessage | RunErrorMessage | HeartbeatMessage;
