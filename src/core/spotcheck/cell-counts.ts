/**
 * How often one token text went to each (layer, expert) cell, for expert specialisation. A spot-check adds a count
 * per routed (token, layer, expert), hundreds of thousands of them, so small models (at most DENSE_MAX_CELLS cells:
 * every shipped model, 32) count into a typed array; the routing traces of large models (48 layers x 128 experts)
 * keep a map of the cells a token actually reached, so thousands of distinct tokens never hold a dense row each.
 */
export const DENSE_MAX_CELLS = 256;

export class CellCounts {
  occurrences = 0;
  private readonly dense: Uint32Array | null;
  private readonly sparse: Map<number, number> | null;

  constructor(cells: number) {
    this.dense = cells <= DENSE_MAX_CELLS ? new Uint32Array(cells) : null;
    this.sparse = this.dense ? null : new Map();
  }

  add(cell: number): void {
    if (this.dense) this.dense[cell]++;
    else this.sparse!.set(cell, (this.sparse!.get(cell) ?? 0) + 1);
  }

  /** [cell, count] for every cell with a count, in cell order for the dense form. */
  *entries(): Generator<[number, number]> {
    if (this.dense) {
      for (let c = 0; c < this.dense.length; c++) if (this.dense[c] > 0) yield [c, this.dense[c]];
    } else yield* this.sparse!.entries();
  }
}
