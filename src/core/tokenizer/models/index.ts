import { asObject, LoadContext, unsupported } from '../config';
import { BpeModel } from './bpe';
import { Model } from './types';
import { UnigramModel } from './unigram';
import { WordPieceModel } from './wordPiece';

export type { Model, ModelToken } from './types';

export function createModel(config: unknown, ctx: LoadContext): Model {
  const c = asObject(config, 'model', ctx);
  switch (c.type) {
    case 'WordPiece':
      return new WordPieceModel(c, ctx);
    case 'BPE':
      return new BpeModel(c, ctx);
    case 'Unigram':
      return new UnigramModel(c, ctx);
    default:
      return unsupported('model', c.type, ctx);
  }
}
