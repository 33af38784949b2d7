/** The one palette (src/shared/palette.ts): a proper sequential ramp, the same colour as CSS and as hex. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { LUT_SIZE, colourAt, hexAt, luminanceAt, textOn } from '../../../src/shared/palette';

describe('palette (viridis)', () => {
  it('is monotonic in luminance, dark to light, and picks readable text', () => {
    let prev = -1;
    for (let i = 0; i < LUT_SIZE; i++) {
      const l = luminanceAt(i / (LUT_SIZE - 1));
      assert.ok(l >= prev - 1e-3, `luminance drops at ${i}`);
      prev = l;
    }
    assert.equal(colourAt(0), 'rgb(68,1,84)');
    assert.equal(colourAt(1), 'rgb(253,231,37)');
    assert.equal(colourAt(NaN), colourAt(0));
    assert.equal(textOn(0), '#ffffff');
    assert.equal(textOn(1), '#000000');
  });
});

describe('palette: one colour per value in every view', () => {
  it("hexAt is colourAt as #rrggbb for every entry, with viridis' ends", () => {
    for (let i = 0; i < LUT_SIZE; i++) {
      const t = i / (LUT_SIZE - 1);
      const [r, g, b] = /^rgb\((\d+),(\d+),(\d+)\)$/.exec(colourAt(t))!.slice(1).map(Number);
      assert.equal(hexAt(t), `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`);
    }
    assert.equal(hexAt(0), '#440154');
    assert.equal(hexAt(1), '#fde725');
    assert.equal(hexAt(NaN), '#440154');
  });
});
