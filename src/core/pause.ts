/**
 * Cooperative slicing for long, synchronous work on a thread that must stay responsive (the VS Code extension
 * host runs the engine): `pause()` returns a promise that lets the event loop run once the current slice has taken
 * `sliceMs`, and undefined otherwise, so `await pause()` in a loop costs nothing until a slice is used up.
 */
export type Pause = () => Promise<void> | undefined;

export const DEFAULT_SLICE_MS = 12;

export function createPause(sliceMs = DEFAULT_SLICE_MS): Pause {
  let sliceStart = performance.now();
  return () => {
    if (performance.now() - sliceStart < sliceMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        sliceStart = performance.now();
        resolve();
      }),
    );
  };
}
