"""The causal LM: received attention corrected for how many queries see each key, causality of the logits, the
per-token loss and the prefix evaluation (damoe/lm.py)."""
import math
import unittest

import torch

from tests.helpers import batch, tiny_model
from damoe.lm import evaluate_lm, prefix_perplexity, token_losses
from damoe.routing import received_attention


def causal_attention(t: int, salient: int = -1, weight: float = 0.0) -> torch.Tensor:
    """[1, 1, t, t]: every query attends uniformly to the keys it can see (0..q); with `salient` >= 0, every query
    that can see that key gives it `weight` and spreads the rest uniformly over its other visible keys."""
    a = torch.zeros(t, t)
    for q in range(t):
        if salient < 0 or q < salient or q == 0:
            a[q, :q + 1] = 1.0 / (q + 1)
        else:
            a[q, :q + 1] = (1.0 - weight) / q
            a[q, salient] = weight
    return a.view(1, 1, t, t)


class ReceivedCorrectionTest(unittest.TestCase):
    T = 12

    def test_uncorrected_sum_favours_early_tokens_under_uniform_attention(self):
        got = received_attention(causal_attention(self.T), torch.ones(1, self.T))[0]
        # Key j gets sum_{q>=j} 1/(q+1): H_T for the first token, 1/T for the last, strictly decreasing.
        self.assertAlmostEqual(float(got[0]), sum(1 / n for n in range(1, self.T + 1)), places=5)
        self.assertAlmostEqual(float(got[-1]), 1 / self.T, places=6)
        self.assertTrue(bool((got[1:] < got[:-1]).all()))

    def test_visible_queries_leaves_part_of_the_bias(self):
        got = received_attention(causal_attention(self.T), torch.ones(1, self.T), correction="visible-queries")[0]
        harmonic = sum(1 / n for n in range(1, self.T + 1))
        self.assertAlmostEqual(float(got[0] / got[-1]), harmonic, places=4)  # ~3.1: early tokens still win

    def test_uniform_causal_is_flat_under_uniform_attention(self):
        mask = torch.ones(1, self.T)
        got = received_attention(causal_attention(self.T), mask, correction="uniform-causal")[0]
        self.assertTrue(torch.allclose(got, torch.ones(self.T), atol=1e-5), got)

    def test_a_late_salient_token_is_ranked_first_only_with_the_correction(self):
        t, salient = self.T, 9  # seen by 3 queries only, each giving it 40% of its attention
        attn = causal_attention(t, salient, 0.4)
        mask = torch.ones(1, t)
        raw = received_attention(attn, mask)[0]
        fixed = received_attention(attn, mask, correction="uniform-causal")[0]
        self.assertEqual(int(raw.argmax()), 0)          # the first token wins on the raw sum
        self.assertEqual(int(fixed.argmax()), salient)  # the token the queries single out wins once corrected

    def test_padding_is_zero_and_does_not_change_real_tokens(self):
        t = 8
        attn = torch.zeros(1, 1, 10, 10)
        attn[0, 0, :t, :t] = causal_attention(t)[0, 0]
        attn[0, 0, t:, 0] = 1.0  # pad query rows: ignored
        mask = torch.zeros(1, 10)
        mask[0, :t] = 1
        got = received_attention(attn, mask, correction="uniform-causal")[0]
        self.assertTrue(torch.allclose(got[:t], torch.ones(t), atol=1e-5))
        self.assertTrue(bool((got[t:] == 0).all()))


class CausalLmTest(unittest.TestCase):
    def model(self, kind="top-k", **router):
        extra = {"k": 2} if kind == "top-k" else {"k_max": 4}
        return tiny_model(kind=kind, task="causal-lm", received_correction="uniform-causal", **extra, **router)

    def test_top_k_logits_at_t_do_not_depend_on_later_tokens(self):
        model = self.model()
        ids, mask = batch()
        ids, mask = ids[:1], mask[:1]
        changed = ids.clone()
        changed[0, 6:] = (changed[0, 6:] + 7) % 59 + 5
        a, b = model(ids, mask).logits, model(changed, mask).logits
        self.assertTrue(torch.allclose(a[0, :6], b[0, :6], atol=1e-5))
        self.assertFalse(torch.allclose(a[0, 6:], b[0, 6:], atol=1e-3))

    def test_token_loss_is_aligned_with_the_token(self):
        logits = torch.randn(2, 5, 11)
        ids = torch.randint(0, 11, (2, 5))
        mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
        got = token_losses(logits, ids, mask)
        self.assertTrue(bool((got[:, 0] == 0).all()))
        self.assertTrue(bool((got[1, 3:] == 0).all()))
        expected = -torch.log_softmax(logits[0, 2], -1)[ids[0, 3]]
        self.assertAlmostEqual(float(got[0, 3]), float(expected), places=5)

    def test_prefix_and_teacher_forced_perplexity_agree_for_top_k(self):
        model = self.model()
        seqs = [[2, 7, 9, 11, 3], [2, 13, 3], [2, 20, 21, 22, 23, 24, 3]]
        tf, pre = evaluate_lm(model, seqs), prefix_perplexity(model, seqs)
        self.assertEqual(tf["scored_tokens"], pre["scored_tokens"])
        self.assertAlmostEqual(tf["mean_loss"], pre["mean_loss"], places=4)
        self.assertAlmostEqual(tf["perplexity"], math.exp(tf["mean_loss"]), places=6)

    def test_da_moe_k_within_bounds_under_the_causal_mask(self):
        model = self.model(kind="da-moe", importance_norm="mean", k_scale=0.5)
        ids, mask = batch()
        out = model(ids, mask)
        real = mask.bool().expand_as(out.expert_count)
        self.assertTrue(bool(((out.expert_count >= 1) & (out.expert_count <= 4))[real].all()))
        self.assertTrue(bool((out.expert_count[~real] == 0).all()))
        self.assertEqual(tuple(out.logits.shape), (3, 9, 64))


if __name__ == "__main__":
    unittest.main()
