/**
 * The one palette of every view: colour-blind-safe sequential viridis (matplotlib's 10 reference stops, linearly
 * interpolated in sRGB) as a 256-entry lookup table. The routing panel (heatmap cells, small multiples, token
 * importance), the spot-check panel and the HTML report (src/report) all colour a value t in [0, 1] with it, so the
 * same value has the same colour everywhere. Pure (no DOM, no Node). Dark (low) to light
 * (high), perceptually uniform, readable in greyscale.
 */
const STOPS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

/** The reference stops as CSS colours (SVG gradients of legends). */
export const STOPS_CSS: readonly string[] = STOPS;

const hex = (h: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];

export const LUT_SIZE = 256;
/** r, g, b per entry. */
export const LUT_RGB = new Uint8ClampedArray(LUT_SIZE * 3);
/** CSS colour per entry. */
export const LUT_CSS: string[] = [];

(function build() {
  const stops = STOPS.map(hex);
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = (i / (LUT_SIZE - 1)) * (stops.length - 1);
    const j = Math.min(Math.floor(x), stops.length - 2);
    const f = x - j;
    for (let c = 0; c < 3; c++) LUT_RGB[i * 3 + c] = Math.round(stops[j][c] + (stops[j + 1][c] - stops[j][c]) * f);
    LUT_CSS.push(`rgb(${LUT_RGB[i * 3]},${LUT_RGB[i * 3 + 1]},${LUT_RGB[i * 3 + 2]})`);
  }
})();

/** LUT index for t in [0, 1] (clamped; NaN -> 0). */
export function lutIndex(t: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return LUT_SIZE - 1;
  return Math.round(t * (LUT_SIZE - 1));
}

export function colourAt(t: number): string {
  return LUT_CSS[lutIndex(t)];
}

const hex2 = (v: number): string => v.toString(16).padStart(2, '0');
/** The same colour as colourAt(t), as `#rrggbb` (for SVG attributes and inline styles in the HTML report). */
export function hexAt(t: number): string {
  const i = lutIndex(t) * 3;
  return `#${hex2(LUT_RGB[i])}${hex2(LUT_RGB[i + 1])}${hex2(LUT_RGB[i + 2])}`;
}

/** Relative luminance (WCAG) of LUT entry i. */
export function luminanceAt(t: number): number {
  const i = lutIndex(t) * 3;
  const lin = (v: number): number => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(LUT_RGB[i]) + 0.7152 * lin(LUT_RGB[i + 1]) + 0.0722 * lin(LUT_RGB[i + 2]);
}

/** Black or white, whichever contrasts more with colourAt(t). */
export function textOn(t: number): '#000000' | '#ffffff' {
  const l = luminanceAt(t);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

/** A CSS linear-gradient of the palette, for legends. */
export function gradientCss(direction = 'to right'): string {
  return `linear-gradient(${direction}, ${STOPS.join(', ')})`;
}

/**
 * Where K sits on the palette: K = 1 .. kMax spread over [0.15, 1] (the darkest end is left out so K = 1 stays
 * visible on dark backgrounds); K = 0 (padding) is -1, drawn as empty. The K grid, the K pips and the editor's
 * colour-by-K share it.
 */
export function kPosition(k: number, kMax: number): number {
  if (!(k >= 1)) return -1;
  if (kMax <= 1) return 1;
  return 0.15 + (0.85 * (Math.min(k, kMax) - 1)) / (kMax - 1);
}
