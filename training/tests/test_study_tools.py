"""The study's statistics, the importance checks, masked-LM inputs and position shifts."""
import os
import tempfile
import unittest

import numpy as np
import torch

from tests.helpers import batch, tiny_model
from damoe.export_onnx import contract_metadata, export
from damoe.importance_check import k_by_word_class, occlusion, rankdata, spearman, word_classes
from damoe.mlm import mask_tokens
from compare import paired_bootstrap


class StatisticsTest(unittest.TestCase):
    def test_rankdata_averages_ties_and_spearman_is_rank_based(self):
        self.assertEqual(rankdata([10, 20, 20, 5]).tolist(), [2.0, 3.5, 3.5, 1.0])
        self.assertAlmostEqual(spearman([1, 2, 3, 4], [1, 4, 9, 16]), 1.0)
        self.assertAlmostEqual(spearman([1, 2, 3, 4], [8, 4, 2, 1]), -1.0)
        self.assertNotEqual(spearman([1, 1, 1], [1, 2, 3]), spearman([1, 1, 1], [1, 2, 3]))  # NaN: no ranks

    def test_paired_bootstrap_finds_a_real_difference_and_not_a_null_one(self):
        rng = np.random.default_rng(1)
        base = (rng.random((3, 600)) < 0.8).astype(int)
        better = base.copy()
        flip = rng.choice(600, 60, replace=False)
        better[:, flip] = 1  # up to 60 sentences fixed in every seed
        p = paired_bootstrap(better, base, 2000)
        self.assertGreater(p["difference"], 0)
        self.assertGreater(p["ci95"][0], 0)
        self.assertAlmostEqual(p["difference"], float(better.mean() - base.mean()), places=9)
        other = (rng.random((3, 600)) < 0.8).astype(int)  # the same accuracy, drawn independently
        same = paired_bootstrap(other, base, 2000)
        self.assertLess(same["ci95"][0], 0)
        self.assertGreater(same["ci95"][1], 0)


class ImportanceCheckTest(unittest.TestCase):
    def test_word_classes_follow_the_word_of_each_piece(self):
        vocab = {"[CLS]": 2, "[SEP]": 3, "the": 10, "movie": 11, "was": 12, "n't": 13, "in": 14, "##spiring": 15,
                 ".": 16}
        inv = {i: p for p, i in vocab.items()}
        ids = [2, 10, 11, 12, 13, 14, 15, 16, 3]
        self.assertEqual(word_classes(ids, inv), ["stop word", "content word", "stop word", "content word",
                                                  "stop word", "stop word", "punctuation"])

    def test_occlusion_and_k_by_class_run_on_a_model(self):
        model = tiny_model(k_max=4, importance_norm="mean", k_scale=0.5)
        seqs = [[2] + list(range(10, 10 + n)) + [3] for n in (3, 5, 8, 2)]
        occ = occlusion(model, seqs, sample=3, seed=0)
        self.assertEqual(occ["sentences"], 3)
        self.assertEqual(len(occ["spearman_pooled_per_layer"]), model.cfg.num_layers)
        self.assertTrue(all(-1 <= r <= 1 for r in occ["spearman_pooled_per_layer"]))
        inv = {i: f"w{i}" for i in range(64)}
        inv[12] = "the"
        inv[13] = ","
        by_class = k_by_word_class(model, seqs, inv)
        self.assertEqual(sum(v["tokens"] for v in by_class.values()), sum(len(s) - 2 for s in seqs))
        self.assertGreater(by_class["punctuation"]["tokens"], 0)
        for v in by_class.values():
            if v["tokens"]:
                self.assertTrue(1 <= v["mean_k"] <= 4)


class MaskedLmTest(unittest.TestCase):
    def test_masking_spares_pads_and_specials_and_targets_the_originals(self):
        ids, mask = batch(seed=4, b=6, t=20)
        ids[:, 0] = 2
        g = torch.Generator().manual_seed(0)
        corrupted, positions, targets = mask_tokens(ids, mask, [0, 1, 2, 3, 4], 4, 64, g, rate=0.5)
        flat_mask, flat_ids = mask.view(-1), ids.view(-1)
        self.assertTrue(bool((flat_mask[positions] == 1).all()))
        self.assertTrue(bool((flat_ids[positions] != 2).all()))
        self.assertTrue(torch.equal(targets, flat_ids[positions]))
        untouched = torch.ones_like(flat_ids, dtype=torch.bool)
        untouched[positions] = False
        self.assertTrue(torch.equal(corrupted.view(-1)[untouched], flat_ids[untouched]))
        self.assertGreater(float((corrupted.view(-1)[positions] == 4).float().mean()), 0.6)

    def test_masked_lm_logits_cover_the_vocabulary_and_train(self):
        model = tiny_model().train()
        ids, mask = batch()
        logits, aux = model.masked_lm(ids, mask, torch.tensor([1, 2, 5]))
        self.assertEqual(tuple(logits.shape), (3, 64))
        (logits.logsumexp(-1).mean() + aux).backward()
        self.assertIsNotNone(model.tok.weight.grad)


class PositionShiftTest(unittest.TestCase):
    def test_a_zero_shift_is_the_plain_forward_and_a_shift_changes_the_output(self):
        model = tiny_model()
        ids, mask = batch()
        plain = model(ids, mask).logits
        self.assertTrue(torch.equal(model(ids, mask, position_shift=torch.zeros(3, dtype=torch.long)).logits, plain))
        shifted = model(ids, mask, position_shift=torch.tensor([5, 0, 50])).logits
        self.assertTrue(torch.equal(shifted[1], plain[1]))
        self.assertFalse(torch.allclose(shifted[0], plain[0]))


class ContractTest(unittest.TestCase):
    def test_the_contract_states_each_rule_with_its_constants(self):
        cal = tiny_model(k_max=4, importance_norm="corpus", importance_heads="max", k_calibration="mean-k").train()
        for s in range(3):
            cal(*batch(seed=s))
        cal.eval()
        meta = contract_metadata(cal, ["negative", "positive"])
        imp = meta["importance"]
        self.assertEqual((imp["normalization"], imp["heads"]), ("corpus", "max"))
        self.assertEqual(len(imp["corpus_mean"]), 2)
        self.assertEqual(imp["k_calibration"]["target_mean_k"], 2.0)
        self.assertEqual(imp["k_calibration"]["s_per_layer"],
                         [round(float(b.k_rule.k_threshold), 6) for b in cal.blocks])
        self.assertIn("calibrated", imp["k_rule"])
        plain = contract_metadata(tiny_model(k_max=4, importance_norm="mean", k_scale=0.375), ["n", "p"])
        self.assertEqual(plain["importance"]["k_rule"],
                         "K = clamp(ceil(k_scale * k_max * importance), 1, k_max); pads K = 0")
        self.assertNotIn("k_calibration", plain["importance"])
        top2 = contract_metadata(tiny_model(kind="top-k", k=2), ["n", "p"])
        self.assertNotIn("k_rule", top2["importance"])

    def test_a_calibrated_model_exports_with_its_thresholds_as_constants(self):
        import onnx
        model = tiny_model(k_max=4, importance_norm="corpus", importance_heads="max", k_calibration="mean-k").train()
        for s in range(3):
            model(*batch(seed=s))
        model.eval()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.onnx")
            export(model, path, ["negative", "positive"])
            proto = onnx.load(path)
        onnx.checker.check_model(proto)
        self.assertIn("NonZero", {n.op_type for n in proto.graph.node})


if __name__ == "__main__":
    unittest.main()
