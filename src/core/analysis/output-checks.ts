/** Reading one named output of a run and refusing it, with the contract's wording, when it is missing or misshapen. */
import { CONTRACT_DOC } from '../contract';
import { EngineError } from '../errors';
import type { RawTensor, TensorMap } from '../runtime/tensors';

export function tensor(outputs: TensorMap, name: string): RawTensor {
  const t = outputs[name];
  if (!t) throw violation([`output "${name}": expected it in the run's results, found none`]);
  return t;
}

export function violation(messages: string[]): EngineError {
  return new EngineError(
    'contract-violation',
    `The model's outputs break the model contract (${messages.length} problem${messages.length === 1 ? '' : 's'}; see ${CONTRACT_DOC}): ${messages[0]}`,
    messages,
  );
}

export function expectDims(t: RawTensor, name: string, want: (number | null)[]): void {
  const ok = t.dims.length === want.length && want.every((w, i) => w === null || t.dims[i] === w);
  if (!ok) {
    const shown = want.map((w) => (w === null ? '?' : String(w))).join(', ');
    throw violation([`output "${name}": expected shape [${shown}], found [${t.dims.join(', ')}]`]);
  }
}
