/**
 * The router conventions on hand-computed rows. Each case names the Hugging Face modelling file whose router it
 * follows (src/transformers/models/<family>/modeling_<family>.py); the fixtures' integration test
 * (test/integration/hf-families.test.ts) checks the same code against the Python reference implementations.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { deriveRouting, parseRouterMetadata, RouterSpec, rowsAreProbabilities } from '../../../../src/core/routers';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6): void => {
  assert.equal(a.length, b.length);
  b.forEach((x, i) => assert.ok(Math.abs(a[i] - x) < tol, `[${i}] ${a[i]} != ${x}`));
};

function spec(over: Partial<RouterSpec>): RouterSpec {
  return {
    convention: 'softmax-topk-renorm',
    k: 2,
    input: 'auto',
    nGroup: 1,
    topkGroup: 1,
    normTopkProb: false,
    routedScalingFactor: 1,
    eScoreCorrectionBias: null,
    expertCapacity: null,
    ...over,
  };
}

// softmax of [ln 1, ln 2, ln 5] = [0.125, 0.25, 0.625]
const LOGITS = Float32Array.from([Math.log(1), Math.log(2), Math.log(5)]);
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

describe('deriveRouting', () => {
  it('softmax-topk-renorm: softmax, top-k, renormalised (mixtral, olmoe/qwen with norm_topk_prob)', () => {
    const r = deriveRouting(LOGITS, 1, 1, 3, spec({}));
    close(r.probs, [0.125, 0.25, 0.625]);
    close(r.gates, [0, 0.25 / 0.875, 0.625 / 0.875]);
    assert.deepEqual(Array.from(r.count), [2]);
    assert.equal(r.input, 'logits');
  });
  it('softmax-topk: the probabilities as gates (qwen2_moe default)', () => {
    const r = deriveRouting(LOGITS, 1, 1, 3, spec({ convention: 'softmax-topk' }));
    close(r.gates, [0, 0.25, 0.625]);
  });
  it('auto: rows that already sum to 1 are not softmaxed again (Qwen records post-softmax router_logits)', () => {
    const probs = Float32Array.from([0.125, 0.25, 0.625, 0.5, 0.3, 0.2]);
    assert.ok(rowsAreProbabilities(probs, 2, 3));
    const r = deriveRouting(probs, 1, 2, 3, spec({ convention: 'softmax-topk' }));
    assert.equal(r.input, 'probabilities');
    close(r.gates, [0, 0.25, 0.625, 0.5, 0.3, 0], 1e-7);
    // The same rows declared as logits are softmaxed: different gates.
    const asLogits = deriveRouting(probs, 1, 2, 3, spec({ convention: 'softmax-topk', input: 'logits' }));
    assert.equal(asLogits.input, 'logits');
    assert.ok(Math.abs(asLogits.gates[2] - 0.625) > 0.1);
    // One row that does not sum to 1 makes the whole input logits.
    assert.equal(rowsAreProbabilities(Float32Array.from([0.125, 0.25, 0.625, 0.5, 0.3, 0.3]), 2, 3), false);
  });
  it('topk-softmax: top-k of the raw logits, softmax over the k (gpt_oss, granitemoe, jetmoe)', () => {
    const logits = Float32Array.from([1, 3, -2, 2.5]);
    const r = deriveRouting(logits, 1, 1, 4, spec({ convention: 'topk-softmax' }));
    const z = Math.exp(3) + Math.exp(2.5);
    close(r.gates, [0, Math.exp(3) / z, 0, Math.exp(2.5) / z]);
  });
  it('sigmoid-group-topk: bias picks, groups limit, unbiased sigmoid gates, normalised and scaled (deepseek_v3)', () => {
    // 4 experts in 2 groups of 2, keep 1 group, k = 2.
    const logits = Float32Array.from([2, 1.5, 1.9, -3]);
    const s = Array.from(logits, sigmoid);
    // Without bias: group 0 = s0 + s1 beats group 1 = s2 + s3, so experts 0 and 1.
    const plain = deriveRouting(logits, 1, 1, 4, spec({ convention: 'sigmoid-group-topk', nGroup: 2, topkGroup: 1 }));
    close(plain.gates, [s[0], s[1], 0, 0]);
    close(plain.probs, s);
    // A bias on expert 3 moves the selection to group 1 (experts 2, 3); gates stay the unbiased scores.
    const bias = [[0, 0, 0, 2]];
    const r = deriveRouting(
      logits,
      1,
      1,
      4,
      spec({
        convention: 'sigmoid-group-topk',
        nGroup: 2,
        topkGroup: 1,
        eScoreCorrectionBias: bias,
        normTopkProb: true,
        routedScalingFactor: 2.5,
      }),
    );
    const m = s[2] + s[3];
    close(r.gates, [0, 0, (s[2] / m) * 2.5, (s[3] / m) * 2.5]);
  });
  it('sigmoid-group-topk: experts outside the kept groups are masked to 0, not -inf, as transformers does', () => {
    // All kept-group choices negative (bias -5): a masked expert (choice 0) outranks them.
    const logits = Float32Array.from([0, 0, 0, 0]);
    const bias = [[-4, -5, -5.5, -6]];
    const r = deriveRouting(
      logits,
      1,
      1,
      4,
      spec({ convention: 'sigmoid-group-topk', k: 2, nGroup: 2, topkGroup: 1, eScoreCorrectionBias: bias }),
    );
    // group 0 (-3.5 + -4.5) beats group 1; masked experts 2 and 3 have choice 0 > -3.5: transformers picks 2 and 3.
    assert.deepEqual(
      Array.from(r.gates, (g) => g > 0),
      [false, false, true, true],
    );
  });
  it('switch-capacity: top-1, tokens over the capacity dropped in sequence order (switch_transformers)', () => {
    // 4 tokens all preferring expert 1, capacity 2: tokens 2 and 3 dropped.
    const row = [0, 2, 0];
    const logits = Float32Array.from([...row, ...row, ...row, ...row]);
    const r = deriveRouting(logits, 1, 4, 3, spec({ convention: 'switch-capacity', k: 1, expertCapacity: 2 }));
    const p = Math.exp(2) / (2 + Math.exp(2));
    close(r.gates, [0, p, 0, 0, p, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(r.count), [1, 1, 0, 0]);
    assert.deepEqual(Array.from(r.dropped), [0, 0, 1, 1]);
  });
  it('switch-capacity counts per layer', () => {
    const logits = Float32Array.from([0, 2, 0, 2, 0, 2, 0, 2]); // L = 2, T = 2, E = 2: expert 1 everywhere
    const r = deriveRouting(logits, 2, 2, 2, spec({ convention: 'switch-capacity', k: 1, expertCapacity: 1 }));
    assert.deepEqual(Array.from(r.dropped), [0, 1, 0, 1]);
  });
  it('ties go to the lower expert index', () => {
    const r = deriveRouting(Float32Array.from([0, 0, 0]), 1, 1, 3, spec({ k: 1 }));
    close(r.gates, [1, 0, 0]);
  });
});

describe('parseRouterMetadata', () => {
  const parse = (m: Record<string, unknown>, k = 2): { problems: string[]; r: ReturnType<typeof parseRouterMetadata> } => {
    const problems: string[] = [];
    const r = parseRouterMetadata(m, 2, 4, k, (key, expected) => problems.push(`${key}: ${expected}`));
    return { problems, r };
  };
  it('v1 gates keys name a convention; the default is softmax-topk-renorm', () => {
    assert.equal(parse({}).r.router.convention, 'softmax-topk-renorm');
    assert.equal(parse({ gates: 'router-probability' }).r.router.convention, 'softmax-topk');
  });
  it('reads the grouped sigmoid router, shared experts and dense layers', () => {
    const { problems, r } = parse({
      router: {
        convention: 'sigmoid-group-topk',
        n_group: 2,
        topk_group: 1,
        norm_topk_prob: true,
        routed_scaling_factor: 2.5,
        e_score_correction_bias: [
          [0, 0, 0, 1],
          [0, 0, 1, 0],
        ],
      },
      shared_experts: { count: 1, gate: 'none' },
      dense_layers: [0],
    });
    assert.deepEqual(problems, []);
    assert.equal(r.router.nGroup, 2);
    assert.equal(r.router.routedScalingFactor, 2.5);
    assert.deepEqual(r.sharedExperts, { count: 1, gate: 'none' });
    assert.deepEqual(r.denseLayers, [0]);
  });
  it('names each bad key', () => {
    const cases: [Record<string, unknown>, RegExp, number?][] = [
      [{ router: { convention: 'softmax-top2' } }, /router.convention: one of "softmax-topk-renorm"/],
      [{ router: { convention: 'sigmoid-group-topk', n_group: 3 } }, /router.n_group: an integer >= 1 that divides num_experts \(4\)/],
      [{ router: { convention: 'sigmoid-group-topk', n_group: 2, topk_group: 1 } }, /k: at most topk_group x experts per group = 2/, 3],
      [
        { router: { convention: 'sigmoid-group-topk', e_score_correction_bias: [[0, 0, 0, 0]] } },
        /e_score_correction_bias: \[num_layers = 2\]/,
      ],
      [{ router: { convention: 'switch-capacity' } }, /k: 1 for a switch-capacity router/],
      [{ router: { convention: 'switch-capacity' } }, /router.expert_capacity: an integer >= 1/, 1],
      [{ router: { convention: 'softmax-topk', input: 'softmax' } }, /router.input: "logits", "probabilities" or "auto"/],
      [{ shared_experts: 2 }, /shared_experts: \{"count"/],
      [{ dense_layers: [0, 0] }, /dense_layers: distinct/],
      [{ dense_layers: [5] }, /dense_layers: distinct decoder-layer indices below num_layers \+ their count \(3\)/],
    ];
    for (const [m, re, k] of cases) {
      const { problems } = parse(m, k);
      assert.ok(
        problems.some((p) => re.test(p)),
        `${JSON.stringify(m)}: ${problems.join(' | ')}`,
      );
    }
  });
});
