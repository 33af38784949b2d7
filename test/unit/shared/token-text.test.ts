import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { AnalysisToken } from '../../../src/shared/analysis';
import { tokenDescription, tokenShownText, unknownSource } from '../../../src/shared/token-text';

const tok = (over: Partial<AnalysisToken>): AnalysisToken => ({
  index: 0,
  id: 1,
  text: '[UNK]',
  start: 4,
  end: 6,
  special: false,
  sequence: 0,
  ...over,
});
const analysis = { text: 'the 🦄 film', textPair: 'a ✓ b' };

describe('token text', () => {
  it('an unknown token shows the characters it stands for, in its own input', () => {
    assert.equal(unknownSource(tok({ unknown: true }), analysis), '🦄');
    assert.equal(tokenShownText(tok({ unknown: true, start: 2, end: 3, sequence: 1 }), analysis), '✓');
    assert.equal(tokenDescription(tok({ unknown: true }), analysis), '🦄 ([UNK])');
  });

  it('any other token shows its vocabulary string', () => {
    assert.equal(tokenShownText(tok({ text: '##ing', unknown: undefined }), analysis), '##ing');
    assert.equal(tokenDescription(tok({ text: '[CLS]', special: true, start: null, end: null, sequence: null }), analysis), '[CLS]');
    // marked unknown but without a range (should not happen): falls back to the vocabulary string
    assert.equal(tokenShownText(tok({ unknown: true, start: null, end: null }), analysis), '[UNK]');
  });
});
