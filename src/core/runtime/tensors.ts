/**
 * Tensors as they cross the process boundary. The worker is forked with `serialization: 'advanced'`, so typed
 * arrays travel through the IPC channel as structured-clone binary data, never as JSON number lists.
 */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface RawTensor {
  /** onnxruntime type name: 'float32', 'int64', ... */
  type: string;
  dims: number[];
  data: TensorData;
}

export type TensorMap = Record<string, RawTensor>;

/** Name, element type and shape of one model input or output as onnxruntime reports it. */
export interface TensorInfo {
  name: string;
  /** onnxruntime type name, or 'non-tensor'. */
  type: string;
  /** Dimensions: a number for a fixed size, a string for a symbolic (dynamic) one; empty when unknown. */
  shape: (number | string)[];
}

export interface ModelIO {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

export function int64Tensor(values: ArrayLike<number>, dims: number[]): RawTensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return { type: 'int64', dims, data };
}
