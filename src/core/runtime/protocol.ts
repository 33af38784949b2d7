/** Messages between the host (ModelRuntime) and the worker process (worker.ts). */
import type { ExecutionProviderChoice, ExpertCompute, ProviderReport } from '../../shared/analysis';
import type { ModelIO, TensorMap } from './tensors';

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

/** Sent by the worker process's main thread every heartbeat period, whatever the model is doing. */
export interface HeartbeatMessage {
  type: 'heartbeat';
}

export type WorkerToHost = LoadedMessage | LoadFailedMessage | ResultMessage | RunErrorMessage | HeartbeatMessage;
