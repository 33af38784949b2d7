"""The three DA-MoE K rules: per-sentence mean normalisation, corpus normalisation, and mean-K calibration."""
import unittest

import torch

from tests.helpers import batch, tiny_model
from damoe.config import ConfigError, ModelConfig, RouterConfig
from damoe.routing import KRule, received_attention, scale_for_mean_k, token_importance

RULES = {
    "mean": dict(importance_norm="mean", k_scale=0.375),
    "corpus": dict(importance_norm="corpus", importance_heads="max", k_scale=0.375),
    "calibrated": dict(importance_norm="corpus", importance_heads="max", k_calibration="mean-k", target_mean_k=2.0),
    "calibrated-mean": dict(importance_norm="mean", k_calibration="mean-k", target_mean_k=2.0),
}


def random_attention(b, h, t, mask, seed, sharp=1.0):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(b, h, t, t, generator=g) * sharp
    scores = scores + ((1 - mask.float()) * -1e9).view(b, 1, 1, t)
    return torch.softmax(scores, -1)


class KRuleTest(unittest.TestCase):
    def test_every_rule_keeps_k_in_bounds_on_real_tokens_and_zero_on_pads(self):
        for name, rule in RULES.items():
            model = tiny_model(k_max=4, seed=3, **rule).train()
            for s in range(4):  # training steps move the running statistics
                model(*batch(seed=s))
            model.eval()
            ids, mask = batch(seed=9)
            out = model(ids, mask)
            real = mask.bool().expand_as(out.expert_count)
            k = out.expert_count
            self.assertTrue(bool(((k >= 1) & (k <= 4))[real].all()), name)
            self.assertTrue(bool((k[~real] == 0).all()), name)
            self.assertTrue(bool((out.importance[~real] == 0).all()), name)
            self.assertTrue(torch.equal((out.expert_gates > 0).sum(-1)[real], k[real]), name)

    def test_head_mean_received_attention_averages_one_per_sentence_so_mean_norm_cannot_move_compute(self):
        mask = torch.tensor([[1] * 7 + [0] * 3, [1] * 10, [1] * 4 + [0] * 6])
        attn = random_attention(3, 4, 10, mask, seed=1, sharp=3.0)
        r = received_attention(attn, mask, "mean")
        per_sentence = r.sum(1) / mask.sum(1)
        self.assertTrue(torch.allclose(per_sentence, torch.ones(3), atol=1e-5))
        # Over heads the max is not conserved: sentences differ, which the corpus norm keeps.
        rmax = received_attention(attn, mask, "max")
        means = rmax.sum(1) / mask.sum(1)
        self.assertTrue(bool((means > 1.0).all()))
        self.assertGreater(float(means.max() - means.min()), 0.05)
        self.assertTrue(bool((rmax[mask == 0] == 0).all()))

    def test_corpus_norm_divides_by_a_running_mean_that_moves_only_in_training(self):
        cfg = RouterConfig(kind="da-moe", k_max=4, importance_norm="corpus", importance_heads="max",
                           calibration_momentum=0.5)
        rule = KRule(cfg).train()
        mask = torch.tensor([[1] * 6 + [0] * 2, [1] * 8])
        a1, a2 = (random_attention(2, 3, 8, mask, seed=s, sharp=2.0) for s in (1, 2))
        m1 = received_attention(a1, mask, "max")[mask.bool()].mean()
        m2 = received_attention(a2, mask, "max")[mask.bool()].mean()
        rule(a1, mask)
        self.assertAlmostEqual(float(rule.corpus_mean), float(m1), places=5)  # the first batch sets it
        imp, _ = rule(a2, mask)
        expected = 0.5 * m1 + 0.5 * m2
        self.assertAlmostEqual(float(rule.corpus_mean), float(expected), places=5)
        self.assertTrue(torch.allclose(imp, received_attention(a2, mask, "max") / expected, atol=1e-6))
        rule.eval()
        rule(a1, mask)
        self.assertAlmostEqual(float(rule.corpus_mean), float(expected), places=5)
        # Sentence means of importance differ: compute can move between sentences.
        means = imp.sum(1) / mask.sum(1)
        self.assertNotAlmostEqual(float(means[0]), float(means[1]), places=3)

    def test_scale_for_mean_k_hits_the_target_where_it_is_reachable(self):
        g = torch.Generator().manual_seed(0)
        imp = torch.rand(5000, generator=g) * 2
        for target in (1.5, 2.0, 2.5, 3.0):
            s = scale_for_mean_k(imp, 4, target)
            mean_k = float(torch.ceil(imp * s).clamp(1, 4).mean())
            self.assertAlmostEqual(mean_k, target, delta=0.01, msg=str(target))
        # Mean K cannot leave [1, k_max]; the solver stops at the bounds instead of diverging.
        self.assertLess(float(torch.ceil(imp * scale_for_mean_k(imp, 4, 1.0)).clamp(1, 4).mean()), 1.01)

    def test_mean_k_calibration_holds_the_mean_k_at_the_target_after_training_steps(self):
        for name in ("calibrated", "calibrated-mean"):
            model = tiny_model(k_max=4, seed=5, calibration_momentum=0.2, **{k: v for k, v in RULES[name].items()})
            model.train()
            thresholds = []
            for s in range(30):
                model(*batch(seed=100 + s, b=8, t=16))
                thresholds.append(float(model.blocks[0].k_rule.k_threshold))
            self.assertNotEqual(thresholds[0], thresholds[-1], name)
            model.eval()
            ids, mask = batch(seed=7, b=64, t=16)
            out = model(ids, mask)
            real = mask.bool()
            for layer in range(model.cfg.num_layers):
                mean_k = float(out.expert_count[layer][real].float().mean())
                self.assertAlmostEqual(mean_k, 2.0, delta=0.25, msg=f"{name} layer {layer}")
            # Frozen in eval: the same input gives the same K again, and the threshold did not move.
            before = float(model.blocks[0].k_rule.k_threshold)
            self.assertTrue(torch.equal(model(ids, mask).expert_count, out.expert_count))
            self.assertEqual(before, float(model.blocks[0].k_rule.k_threshold))

    def test_an_uncalibrated_rule_uses_k_scale_even_when_a_checkpoint_carries_a_threshold(self):
        # A k_scale override at evaluation (the sweep) must take effect on a rule that is not calibrated.
        model = tiny_model(k_max=4, importance_norm="mean", k_scale=1.0)
        for block in model.blocks:
            block.k_rule.k_threshold.fill_(0.01)
        ids, mask = batch()
        imp = model(ids, mask).importance
        expected = torch.ceil(imp * 4.0).clamp(1, 4) * mask
        self.assertTrue(torch.equal(model(ids, mask).expert_count, expected.long()))

    def test_importance_matches_the_old_definition_for_the_per_sentence_norms(self):
        mask = torch.tensor([[1] * 5 + [0] * 3, [1] * 8])
        attn = random_attention(2, 4, 8, mask, seed=4)
        m = mask.float()
        old = (attn * m.view(2, 1, 8, 1)).sum(2).mean(1) / m.sum(1, keepdim=True) * m
        for norm, scale in (("max", old.max(1, keepdim=True).values), ("sum", old.sum(1, keepdim=True)),
                            ("mean", old.sum(1, keepdim=True) / m.sum(1, keepdim=True))):
            self.assertTrue(torch.allclose(token_importance(attn, mask, norm), old / scale, atol=1e-6), norm)

    def test_bad_rule_settings_are_refused(self):
        with self.assertRaisesRegex(ConfigError, "importance_heads"):
            ModelConfig(router=RouterConfig(importance_heads="min")).validate()
        with self.assertRaisesRegex(ConfigError, "k_calibration"):
            ModelConfig(router=RouterConfig(k_calibration="median")).validate()
        with self.assertRaisesRegex(ConfigError, r"target_mean_k \(5.0\) must be between 1 and k_max \(4\)"):
            ModelConfig(router=RouterConfig(k_max=4, k_calibration="mean-k", target_mean_k=5.0)).validate()


if __name__ == "__main__":
    unittest.main()
