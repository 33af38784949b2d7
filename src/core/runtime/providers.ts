/** Which execution providers to try, in order, and how to explain a provider that failed. */
import type { ExecutionProviderChoice, ExecutionProviderName } from '../../shared/analysis';
import { EXECUTION_PROVIDER_CHOICES } from '../../shared/defaults';

export const AUTO_PROVIDER_ORDER: readonly ExecutionProviderName[] = ['cuda', 'webgpu', 'cpu'];

export function providerOrder(choice: ExecutionProviderChoice): ExecutionProviderName[] {
  return choice === 'auto' ? [...AUTO_PROVIDER_ORDER] : [choice];
}

export function isProviderChoice(value: string): value is ExecutionProviderChoice {
  return (EXECUTION_PROVIDER_CHOICES as readonly string[]).includes(value);
}

/** What a user can do about a provider that failed. */
export const PROVIDER_HINTS: Record<ExecutionProviderName, string> = {
  cuda: 'CUDA needs an NVIDIA GPU, CUDA 12 + cuDNN 9 libraries and the CUDA build of onnxruntime-node',
  webgpu: 'WebGPU needs a GPU adapter the bundled Dawn runtime can use (Vulkan on Linux, D3D12 on Windows, Metal on macOS)',
  cpu: 'the CPU provider is always present, so the model itself could not be loaded or run',
};

/**
 * One readable line from an onnxruntime error. ORT prefixes its messages with a C++ source location and a failed
 * check ("/onnxruntime_src/...cc:136 ... was false. Failed to get a WebGPU adapter"), which says nothing to a user.
 */
export function summarizeOrtError(message: string): string {
  let line = message.split('\n').find((l) => l.trim() !== '') ?? message;
  const check = line.lastIndexOf(' was false. ');
  if (check >= 0) line = line.slice(check + ' was false. '.length);
  line = line.replace(/^\/onnxruntime_src\/\S+:\d+\s+/, '').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
