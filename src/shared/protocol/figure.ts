/**
 * `figure/save`: a chart the webview rendered (PNG as base64, or an SVG document) for the host to write through a
 * save dialog. The webview is untrusted, so the host checks that the bytes are what they claim before anything is
 * written: a PNG whose IHDR gives the stated size, or an SVG document of the stated size with nothing active in it
 * (no script, no event handler attributes, no foreignObject, no javascript: or external references).
 */
import { describe, expectInt, expectKeys, fail } from './validation';

export interface FigureSaveParams {
  /** The chart's name, used for the default file name (`k-grid`, `heatmap-L2`, …). */
  name: string;
  format: 'png' | 'svg';
  /** base64 PNG bytes, or the SVG document text. */
  data: string;
  /** Pixel size of the PNG, or the SVG's width/height attributes. */
  width: number;
  height: number;
}

/** Largest figure accepted (characters of `data`): a 16,000 px grid PNG stays far below it. */
export const MAX_FIGURE_DATA_CHARS = 48 * 1024 * 1024;
export const MAX_FIGURE_SIDE_PX = 32_768;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk (the first chunk, right after the signature), or null when not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24) return null;
  for (let i = 0; i < 8; i++) if (bytes[i] !== PNG_SIGNATURE[i]) return null;
  if (String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]) !== 'IHDR') return null;
  const u32 = (o: number): number => ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
  return { width: u32(16), height: u32(20) };
}

function base64Head(data: string, bytes: number): Uint8Array {
  const head = atob(data.slice(0, Math.ceil(bytes / 3) * 4));
  return Uint8Array.from(head, (c) => c.charCodeAt(0));
}

const ACTIVE_SVG = /<script\b|<foreignObject\b|\son[a-z]+\s*=|javascript:|<!ENTITY|\bxlink:href\s*=\s*["'](?!#)|\shref\s*=\s*["'](?!#)/i;

export function validateFigureSave(p: Record<string, unknown>): FigureSaveParams {
  expectKeys(p, 'params', ['name', 'format', 'data', 'width', 'height']);
  if (typeof p.name !== 'string' || !NAME.test(p.name))
    fail(`params.name: expected a chart name of letters, digits, . _ -, got ${describe(p.name)}`);
  if (p.format !== 'png' && p.format !== 'svg') fail(`params.format: expected "png" or "svg", got ${describe(p.format)}`);
  if (typeof p.data !== 'string' || p.data.length === 0) fail(`params.data: expected the figure's data, got ${describe(p.data)}`);
  if (p.data.length > MAX_FIGURE_DATA_CHARS)
    fail(`params.data: ${p.data.length} characters, more than the ${MAX_FIGURE_DATA_CHARS} a figure may have`);
  const width = expectInt(p.width, 'params.width', 1, MAX_FIGURE_SIDE_PX);
  const height = expectInt(p.height, 'params.height', 1, MAX_FIGURE_SIDE_PX);
  if (p.format === 'png') {
    if (!B64.test(p.data) || p.data.length % 4 !== 0) fail('params.data: not base64');
    const size = pngSize(base64Head(p.data, 24));
    if (!size) fail('params.data: not a PNG (no PNG signature and IHDR chunk)');
    if (size.width !== width || size.height !== height)
      fail(`params.data: the PNG is ${size.width}×${size.height}, not the ${width}×${height} stated`);
  } else {
    const head = p.data.slice(0, 4096);
    if (!/^\s*(<\?xml[^>]*\?>\s*)?<svg\b/.test(head)) fail('params.data: not an SVG document (it must start with <svg)');
    if (ACTIVE_SVG.test(p.data)) fail('params.data: the SVG has active content (script, event handler, foreignObject or an external link)');
    const w = /<svg\b[^>]*\swidth="(\d+(?:\.\d+)?)"/.exec(head);
    const h = /<svg\b[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(head);
    if (!w || !h || Math.round(Number(w[1])) !== width || Math.round(Number(h[1])) !== height)
      fail(`params.data: the SVG's width/height (${w?.[1] ?? '?'}×${h?.[1] ?? '?'}) are not the ${width}×${height} stated`);
  }
  return { name: p.name as string, format: p.format as 'png' | 'svg', data: p.data as string, width, height };
}
