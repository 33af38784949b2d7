#!/usr/bin/env node
/**
 * Draws media/icon.png (128x128, the Marketplace icon and the panels' tab icon): a token x expert heatmap in the
 * panels' viridis palette on the gallery banner's colour, with a few tokens routed to more experts than others.
 * Writes a plain RGBA PNG with node:zlib, so it needs nothing installed:  node scripts/make-icon.mjs
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'media', 'icon.png');

// matplotlib's viridis reference stops (the same as src/shared/palette.ts).
const STOPS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'].map((h) =>
  [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)),
);
const viridis = (t) => {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const j = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - j;
  return STOPS[j].map((c, k) => Math.round(c + (STOPS[j + 1][k] - c) * f));
};

const background = [0x1b, 0x1f, 0x2a];
const px = new Uint8Array(SIZE * SIZE * 4);
const set = (x, y, [r, g, b], a = 255) => {
  const i = (y * SIZE + x) * 4;
  px[i] = r;
  px[i + 1] = g;
  px[i + 2] = b;
  px[i + 3] = a;
};

// Rounded square background.
const R = 22;
for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    const dx = Math.max(R - x, x - (SIZE - 1 - R), 0);
    const dy = Math.max(R - y, y - (SIZE - 1 - R), 0);
    if (dx * dx + dy * dy <= R * R) set(x, y, background);
  }
}

// 6 tokens (rows) x 4 experts (columns): each token's K experts lit, brighter for a larger gate.
const K = [1, 3, 2, 1, 4, 2];
const gates = [
  [0.9, 0, 0, 0],
  [0.5, 0.3, 0, 0.2],
  [0, 0.6, 0.4, 0],
  [0, 0, 0, 1],
  [0.35, 0.25, 0.2, 0.2],
  [0.3, 0, 0.7, 0],
];
const cell = 16;
const gap = 3;
const x0 = Math.round((SIZE - (4 * cell + 3 * gap)) / 2) + 10;
const y0 = Math.round((SIZE - (6 * cell + 5 * gap)) / 2);
for (let row = 0; row < 6; row++) {
  for (let col = 0; col < 4; col++) {
    const g = gates[row][col];
    const colour = g > 0 ? viridis(0.25 + 0.75 * g) : [0x2c, 0x32, 0x42];
    for (let y = 0; y < cell; y++) for (let x = 0; x < cell; x++) set(x0 + col * (cell + gap) + x, y0 + row * (cell + gap) + y, colour);
  }
  // K as a bar on the left: longer for tokens that got more experts.
  const bar = 4 + K[row] * 5;
  for (let y = 2; y < cell - 2; y++) for (let x = 0; x < bar; x++) set(x0 - 8 - bar + x, y0 + row * (cell + gap) + y, viridis(0.95));
}

// PNG: signature, IHDR, one IDAT (filter byte 0 per row), IEND.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) Buffer.from(px.buffer, y * SIZE * 4, SIZE * 4).copy(raw, y * (SIZE * 4 + 1) + 1);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, png);
console.log(`make-icon: ${out} (${png.length} bytes)`);
