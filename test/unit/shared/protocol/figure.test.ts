/** `figure/save` as the host checks it: a PNG must be a PNG of the stated size, an SVG must have nothing active. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { pngSize, validateFigureSave } from '../../../../src/shared/protocol/figure';
import { parseWebviewMessage } from '../../../../src/shared/protocol/routing';

/** The first bytes of a PNG: the signature and an IHDR chunk of w × h (enough for the check; CRC not verified). */
function pngHead(w: number, h: number): string {
  const b = Buffer.alloc(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  b[24] = 8;
  b[25] = 6;
  return b.toString('base64');
}

const svgDoc = (w: number, h: number, body = '<rect x="0" y="0" width="1" height="1"/>') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${body}</svg>`;

describe('figure/save validation', () => {
  it('reads a PNG size from its IHDR', () => {
    assert.deepEqual(pngSize(new Uint8Array(Buffer.from(pngHead(640, 480), 'base64'))), { width: 640, height: 480 });
    assert.equal(pngSize(new Uint8Array(Buffer.from('GIF89a...............................'))), null);
  });

  it('accepts a PNG and an SVG of the stated size, as a request of the routing panel', () => {
    for (const params of [
      { name: 'k-grid', format: 'png', data: pngHead(600, 340), width: 600, height: 340 },
      { name: 'heatmap', format: 'svg', data: svgDoc(300, 170), width: 300, height: 170 },
    ]) {
      const r = parseWebviewMessage({ protocol: 1, kind: 'request', id: 3, method: 'figure/save', params });
      assert.equal(r.ok, true, r.ok ? '' : r.error);
    }
  });

  it('refuses what is not what it says, with a reason', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ name: '../x', format: 'png', data: pngHead(1, 1), width: 1, height: 1 }, /params\.name/],
      [{ name: 'x', format: 'gif', data: pngHead(1, 1), width: 1, height: 1 }, /params\.format/],
      [{ name: 'x', format: 'png', data: Buffer.from('not a png at all, no no no').toString('base64'), width: 1, height: 1 }, /not a PNG/],
      [{ name: 'x', format: 'png', data: pngHead(600, 340), width: 600, height: 341 }, /600×340, not the 600×341/],
      [{ name: 'x', format: 'png', data: 'a@b', width: 1, height: 1 }, /not base64/],
      [{ name: 'x', format: 'svg', data: '<html></html>', width: 1, height: 1 }, /not an SVG/],
      [{ name: 'x', format: 'svg', data: svgDoc(10, 10, '<script>alert(1)</script>'), width: 10, height: 10 }, /active content/],
      [{ name: 'x', format: 'svg', data: svgDoc(10, 10, '<rect onload="x()"/>'), width: 10, height: 10 }, /active content/],
      [{ name: 'x', format: 'svg', data: svgDoc(10, 10, '<image href="https://evil/x.png"/>'), width: 10, height: 10 }, /active content/],
      [{ name: 'x', format: 'svg', data: svgDoc(10, 10), width: 11, height: 10 }, /not the 11×10/],
      [{ name: 'x', format: 'png', data: pngHead(1, 1), width: 0, height: 1 }, /params\.width/],
    ];
    for (const [params, why] of bad) assert.throws(() => validateFigureSave(params), why, JSON.stringify(params).slice(0, 80));
  });
});
