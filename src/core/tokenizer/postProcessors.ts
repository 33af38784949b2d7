/** tokenizer.json `post_processor` section -> how special tokens wrap one or two sequences. */
import { asObject, invalid, Json, LoadContext, unsupported } from './config';

/** A special token to insert: one template entry may expand to several ids. */
export interface SpecialPiece {
  ids: number[];
  tokens: string[];
  typeId: number;
}

/** A layout: specials and the A/B sequences in order, with their type ids. */
export type LayoutItem = { kind: 'special'; piece: SpecialPiece } | { kind: 'sequence'; seq: 0 | 1; typeId: number };

export interface PostProcessor {
  layout(pair: boolean): LayoutItem[];
}

type Lookup = (token: string) => number | undefined;

export function createPostProcessor(config: unknown, ctx: LoadContext, lookup: Lookup): PostProcessor | null {
  if (config === null || config === undefined) return null;
  const c = asObject(config, 'post_processor', ctx);
  switch (c.type) {
    case 'TemplateProcessing':
      return template(c, ctx, lookup);
    case 'BertProcessing':
    case 'RobertaProcessing': {
      const cls = pairOf(c.cls, ctx);
      const sep = pairOf(c.sep, ctx);
      const sp = (p: [string, number], typeId: number): LayoutItem => ({
        kind: 'special',
        piece: { ids: [p[1]], tokens: [p[0]], typeId },
      });
      // RoBERTa has a single token type, so its pair layout stays type 0 (as the Rust crate does).
      const roberta = c.type === 'RobertaProcessing';
      const t = roberta ? 0 : 1;
      return {
        layout: (pair) => {
          const single: LayoutItem[] = [sp(cls, 0), { kind: 'sequence', seq: 0, typeId: 0 }, sp(sep, 0)];
          if (!pair) return single;
          return [...single, ...(roberta ? [sp(sep, t)] : []), { kind: 'sequence', seq: 1, typeId: t }, sp(sep, t)];
        },
      };
    }
    case 'ByteLevel':
      // Only trims offsets in the Rust crate; ids are unaffected and our offsets keep the space.
      return null;
    case 'Sequence': {
      const list = Array.isArray(c.processors) ? c.processors : [];
      const real = list.map((p) => createPostProcessor(p, ctx, lookup)).filter((p): p is PostProcessor => p !== null);
      if (real.length > 1) unsupported('post-processor', 'Sequence', ctx, 'more than one special-token processor');
      return real[0] ?? null;
    }
    default:
      return unsupported('post-processor', c.type, ctx);
  }
}

function pairOf(v: unknown, ctx: LoadContext): [string, number] {
  if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'number') invalid('post_processor cls/sep', ctx);
  return [v[0], v[1]];
}

function template(c: Json, ctx: LoadContext, lookup: Lookup): PostProcessor {
  const specials = (c.special_tokens ?? {}) as Record<string, { ids?: number[]; tokens?: string[] }>;
  const parse = (items: unknown): LayoutItem[] => {
    if (!Array.isArray(items)) return invalid('TemplateProcessing template', ctx);
    return items.map((raw): LayoutItem => {
      const item = asObject(raw, 'TemplateProcessing item', ctx);
      if (item.SpecialToken) {
        const st = item.SpecialToken as { id: string; type_id?: number };
        const known = specials[st.id];
        let ids = known?.ids;
        let tokens = known?.tokens;
        if (!ids) {
          const id = lookup(st.id);
          if (id === undefined) invalid(`TemplateProcessing (special token ${st.id} has no id)`, ctx);
          ids = [id];
          tokens = [st.id];
        }
        return { kind: 'special', piece: { ids, tokens: tokens ?? ids.map(() => st.id), typeId: st.type_id ?? 0 } };
      }
      if (item.Sequence) {
        const s = item.Sequence as { id: string; type_id?: number };
        return { kind: 'sequence', seq: s.id === 'B' ? 1 : 0, typeId: s.type_id ?? 0 };
      }
      return invalid('TemplateProcessing item', ctx);
    });
  };
  const single = parse(c.single);
  const pair = parse(c.pair);
  return { layout: (isPair) => (isPair ? pair : single) };
}
