/** Viridis, a perceptually uniform, colour-blind-safe sequential palette (9 stops, linear interpolation). */
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

function hex(n: number): string {
  return Math.round(Math.min(255, Math.max(0, n)))
    .toString(16)
    .padStart(2, '0');
}

/** Colour for t in [0, 1] (clamped; NaN is 0). */
export function viridis(t: number): string {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const pos = x * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(pos));
  const f = pos - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return `#${hex(a[0] + (b[0] - a[0]) * f)}${hex(a[1] + (b[1] - a[1]) * f)}${hex(a[2] + (b[2] - a[2]) * f)}`;
}

/** Readable text colour on viridis(t): light on the dark end, dark on the light end. */
export function viridisInk(t: number): string {
  return (Number.isFinite(t) ? t : 0) < 0.55 ? '#ffffff' : '#111111';
}
