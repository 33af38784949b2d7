/** A token produced by a model, located by UTF-16 units [a, b) of the word it came from. */
export interface ModelToken {
  id: number;
  text: string;
  a: number;
  b: number;
}

export interface Model {
  /** Token text -> id, including added tokens (they share the id space). */
  readonly vocab: Map<string, number>;
  readonly unkId: number | undefined;
  /** Whether runs of unknown tokens collapse into one. */
  readonly fuseUnk: boolean;
  tokenize(word: string): readonly ModelToken[];
}
