/**
 * The routing table: one row per (example, token, MoE layer) of a spot-check, written as Parquet by
 * `damoe spot-check --routing OUT.parquet` (src/core/spotcheck/routing-table.ts). The columns below are its schema, in
 * file order; docs/cli.md documents them. Change a column's meaning only with ROUTING_TABLE_VERSION, which the file
 * carries in its key-value metadata (`damoe.routing_table_version`).
 */
export const ROUTING_TABLE_VERSION = 1;

export type RoutingColumnType = 'int32' | 'float' | 'boolean' | 'string' | 'list<int32>' | 'list<float>';

export interface RoutingColumn {
  name: string;
  type: RoutingColumnType;
  /** The value may be null. */
  nullable: boolean;
  meaning: string;
}

export const ROUTING_TABLE_COLUMNS = [
  { name: 'line', type: 'int32', nullable: false, meaning: 'line of the example in the dataset file (as examples[].line of the report)' },
  { name: 'token_index', type: 'int32', nullable: false, meaning: 'position of the token in the example (special tokens included)' },
  { name: 'token', type: 'string', nullable: false, meaning: 'the vocabulary string of the token ([CLS], ##ing, Ġthe)' },
  { name: 'special', type: 'boolean', nullable: false, meaning: 'an inserted special token' },
  { name: 'layer', type: 'int32', nullable: false, meaning: 'MoE layer index' },
  { name: 'k', type: 'int32', nullable: false, meaning: 'K: experts the token used in this layer' },
  { name: 'importance', type: 'float', nullable: true, meaning: "the token's importance in this layer; null when the model gives none" },
  {
    name: 'experts',
    type: 'list<int32>',
    nullable: false,
    meaning: 'the chosen experts, highest gate first ([] for a token a capacity router dropped)',
  },
  { name: 'gates', type: 'list<float>', nullable: false, meaning: 'their gates, in the same order' },
  {
    name: 'router_entropy',
    type: 'float',
    nullable: true,
    meaning: "Shannon entropy in bits of the router's probabilities over all experts; null when they are all zero",
  },
  {
    name: 'loss',
    type: 'float',
    nullable: true,
    meaning: 'causal LMs: the loss (nats) of predicting this token from its prefix; null for the first token and for classifiers',
  },
  { name: 'label', type: 'string', nullable: true, meaning: 'the dataset label as written; null without one' },
  { name: 'predicted', type: 'string', nullable: true, meaning: 'the predicted model label of the example; null for causal LMs' },
  { name: 'confidence', type: 'float', nullable: true, meaning: 'the probability of the predicted label; null for causal LMs' },
] as const satisfies readonly RoutingColumn[];

export type RoutingColumnName = (typeof ROUTING_TABLE_COLUMNS)[number]['name'];
