import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Tokenizer, TokenizerConfigError } from '../../../../src/core/tokenizer';
import { FAMILIES, fixturePath, readJson } from './helpers';

describe('Tokenizer API', () => {
  it('fromFile: clear errors for missing and malformed files', () => {
    assert.throws(
      () => Tokenizer.fromFile('/nonexistent/tokenizer.json'),
      (e: Error) => {
        return e instanceof TokenizerConfigError && /not found: \/nonexistent\/tokenizer\.json/.test(e.message);
      },
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-'));
    const bad = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(bad, '{"model": ');
    assert.throws(() => Tokenizer.fromFile(bad), /Malformed JSON in tokenizer file .*tokenizer\.json/);
    fs.writeFileSync(bad, '[1,2]');
    assert.throws(() => Tokenizer.fromFile(bad), /Malformed tokenizer file \(top level\).*tokenizer\.json/);
    fs.rmSync(dir, { recursive: true });
  });

  it('load (async) and fromText give the errors fromFile gives, naming the file', async () => {
    await assert.rejects(Tokenizer.load('/nonexistent/tokenizer.json'), (e: Error) => {
      return e instanceof TokenizerConfigError && /not found: \/nonexistent\/tokenizer\.json/.test(e.message);
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-'));
    const bad = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(bad, '{"model": ');
    await assert.rejects(Tokenizer.load(bad), /Malformed JSON in tokenizer file .*tokenizer\.json/);
    assert.throws(() => Tokenizer.fromText('{"model": ', 'given.json'), /Malformed JSON in tokenizer file given\.json/);
    await assert.rejects(Tokenizer.load(dir), /Cannot read tokenizer file .*tok-/);
    fs.rmSync(dir, { recursive: true });
    const text = fs.readFileSync(fixturePath('wordpiece'), 'utf8');
    assert.deepEqual(
      Tokenizer.fromText(text).encode('Hello world').ids,
      (await Tokenizer.load(fixturePath('wordpiece'))).encode('Hello world').ids,
    );
  });

  it('unsupported components name their type and the file', () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['normalizer', { type: 'Fancy' }, /Unsupported normalizer type "Fancy" in my\.json/],
      ['pre_tokenizer', { type: 'FixedLength', length: 3 }, /Unsupported pre-tokenizer type "FixedLength" in my\.json/],
      ['model', { type: 'WordLevel', vocab: {} }, /Unsupported model type "WordLevel" in my\.json/],
      ['post_processor', { type: 'Magic' }, /Unsupported post-processor type "Magic" in my\.json/],
      ['decoder', { type: 'CTC' }, /Unsupported decoder type "CTC" in my\.json/],
    ];
    for (const [key, value, re] of cases) {
      const json = readJson(fixturePath('wordpiece'));
      json[key] = value;
      assert.throws(() => Tokenizer.fromJSON(json, 'my.json'), re);
    }
    const json = readJson(fixturePath('bpe'));
    json.pre_tokenizer = { type: 'Split', pattern: { Regex: '(?i:abc)' }, behavior: 'Isolated', invert: false };
    assert.throws(() => Tokenizer.fromJSON(json, 'my.json'), /Unsupported regex in Split pre-tokenizer in my\.json/);
  });

  it('vocab lookups and special tokens', () => {
    const wp = Tokenizer.fromFile(fixturePath('wordpiece'));
    assert.equal(wp.tokenToId('[CLS]'), 2);
    assert.equal(wp.idToToken(2), '[CLS]');
    assert.equal(wp.tokenToId('no-such-token-xyz'), undefined);
    assert.deepEqual(wp.specialTokens.pad, { token: '[PAD]', id: 0 });
    assert.deepEqual(wp.specialTokens.unk, { token: '[UNK]', id: 1 });
    assert.equal(wp.specialTokens.cls?.id, 2);
    assert.equal(wp.specialTokens.sep?.id, 3);
    assert.ok(wp.vocabSize > 2000);
    const bpe = Tokenizer.fromFile(fixturePath('bpe'));
    assert.equal(bpe.specialTokens.cls?.token, '<s>');
    assert.equal(bpe.specialTokens.pad?.token, '<pad>');
    assert.equal(bpe.numSpecialTokensToAdd(false), 2);
    assert.equal(bpe.numSpecialTokensToAdd(true), 4);
  });

  it('encode without specials, then postProcess, equals encode with specials', () => {
    for (const fam of FAMILIES) {
      const tok = Tokenizer.fromFile(fixturePath(fam));
      const text = 'The model routes every token. 東京 café';
      const raw = tok.encode(text, undefined, { addSpecialTokens: false });
      assert.ok(raw.tokens.every((t) => !t.special));
      const window = tok.postProcess(raw.tokens);
      assert.deepEqual(window, tok.encode(text));
      assert.deepEqual(tok.postProcess(raw.tokens.slice(0, 3)).ids.length, 3 + tok.numSpecialTokensToAdd());
      const pair = tok.encode('a b', 'c d');
      assert.deepEqual(pair.ids, tok.postProcess(tok.tokenize('a b'), tok.tokenize('c d', 1)).ids);
      assert.equal(pair.typeIds.length, pair.ids.length);
      assert.ok(pair.attentionMask.every((m) => m === 1));
    }
  });

  it('decode round-trips plain text', () => {
    const bpe = Tokenizer.fromFile(fixturePath('bpe'));
    const text = 'Hello wörld 👍, how are you?';
    assert.equal(bpe.decode(bpe.encode(text).ids, { skipSpecialTokens: true }), text);
    const wp = Tokenizer.fromFile(fixturePath('wordpiece'));
    assert.equal(wp.decode(wp.encode('the model routes tokens').ids, { skipSpecialTokens: true }), 'the model routes tokens');
    const uni = Tokenizer.fromFile(fixturePath('unigram'));
    assert.equal(uni.decode(uni.encode('the model routes tokens').ids, { skipSpecialTokens: true }), 'the model routes tokens');
  });

  it('encodes a ~4096-token text in milliseconds', () => {
    const base =
      'The model routes each token to a mixture of experts, and attention is dynamic. ' +
      "I loved this movie! It wasn't great, but the acting was superb... 10/10. " +
      'Le café de la gare est fermé le dimanche. 東京は日本の首都です。 Привет, как дела? 👍🏽 ';
    for (const fam of FAMILIES) {
      const tok = Tokenizer.fromFile(fixturePath(fam));
      let text = '';
      while (tok.encode(text, undefined, { addSpecialTokens: false }).ids.length < 4096) text += base;
      tok.encode(text); // warm caches and JIT
      const t0 = process.hrtime.bigint();
      const enc = tok.encode(text);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      assert.ok(enc.ids.length >= 4096);
      // Generous bound for a loaded CI machine; typical is well under 50 ms.
      assert.ok(ms < 500, `${fam}: ${enc.ids.length} tokens took ${ms.toFixed(1)} ms`);
    }
  });

  it('pathological long words stay fast (BPE heap, WordPiece length cap)', () => {
    for (const fam of FAMILIES) {
      const tok = Tokenizer.fromFile(fixturePath(fam));
      const t0 = Date.now();
      const enc = tok.encode('a'.repeat(20000) + ' ' + 'xyzzy'.repeat(2000));
      assert.ok(enc.ids.length > 0);
      assert.ok(Date.now() - t0 < 2000, `${fam} took ${Date.now() - t0} ms`);
    }
  });
});
