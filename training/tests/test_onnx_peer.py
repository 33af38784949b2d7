"""bench/onnx_peer.py: the PyTorch peer rebuilt from a model.onnx's own weights reproduces the model."""
import json
import os
import sys
import tempfile
import unittest

import torch

from tests.helpers import ROOT, batch, tiny_model
from damoe.export_onnx import export

sys.path.insert(0, os.path.join(ROOT, "bench"))
from onnx_peer import model_from_onnx  # noqa: E402

SHIPPED = ["damoe-sst2", "switch-sst2", "top2-sst2"]


class OnnxPeerTest(unittest.TestCase):
    def test_shipped_models_reproduce_the_parity_fixtures(self):
        """The rebuilt model gives the parity fixtures' outputs (which the ONNX model is checked against in
        test/integration) on every parity sentence."""
        for name in SHIPPED:
            onnx_path = os.path.join(ROOT, "models", name, "model.onnx")
            fixture = os.path.join(ROOT, "test", "fixtures", "parity", f"{name}.json")
            if not os.path.exists(onnx_path):
                self.skipTest(f"{onnx_path} not exported")
            with self.subTest(model=name):
                model, cfg, meta = model_from_onnx(onnx_path)
                self.assertEqual(cfg.router.kind, meta["router_kind"])
                with open(fixture, encoding="utf-8") as f:
                    cases = json.load(f)["cases"]
                self.assertGreaterEqual(len(cases), 30)
                with torch.inference_mode():
                    for c in cases:
                        ids = torch.tensor([c["input_ids"]])
                        o = model(ids, torch.ones_like(ids))
                        torch.testing.assert_close(o.logits[0], torch.tensor(c["logits"]), atol=1e-5, rtol=0)
                        torch.testing.assert_close(o.expert_gates[:, 0], torch.tensor(c["expert_gates"]),
                                                   atol=1e-6, rtol=0)
                        torch.testing.assert_close(o.importance[:, 0], torch.tensor(c["token_importance"]),
                                                   atol=1e-5, rtol=0)
                        self.assertEqual(o.expert_count[:, 0].tolist(), c["expert_count"], c["text"])

    def test_the_shipped_causal_lm_reproduces_its_parity_fixture(self):
        """damoe-lm-sst2 rebuilt (no head: the tied embedding; the causal K rule's received_correction from the
        metadata) gives the fixture's per-token loss, top-5 and K: the GPU graph of the shipped LM was exported from
        this rebuild, because its training run is not in the repository."""
        from damoe.lm import token_losses

        onnx_path = os.path.join(ROOT, "models", "damoe-lm-sst2", "model.onnx")
        if not os.path.exists(onnx_path):
            self.skipTest(f"{onnx_path} not exported")
        model, cfg, meta = model_from_onnx(onnx_path)
        self.assertEqual(cfg.task, "causal-lm")
        self.assertEqual(cfg.router.received_correction, meta["importance"]["received_correction"])
        with open(os.path.join(ROOT, "test", "fixtures", "parity", "damoe-lm-sst2.json"), encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        with torch.inference_mode():
            for c in cases:
                ids = torch.tensor([c["input_ids"]])
                mask = torch.ones_like(ids)
                o = model(ids, mask)
                torch.testing.assert_close(token_losses(o.logits, ids, mask)[0], torch.tensor(c["token_loss"]),
                                           atol=1e-5, rtol=0)
                self.assertEqual(torch.log_softmax(o.logits[0], -1).topk(5, -1).indices.tolist(), c["top5_ids"])
                self.assertEqual(o.expert_count[:, 0].tolist(), c["expert_count"], c["text"])

    def _round_trip(self, **router):
        model = tiny_model(**router)
        for i, block in enumerate(model.blocks):  # buffers away from their defaults, as training leaves them
            block.k_rule.corpus_mean.fill_(0.8 + 0.1234567 * i)
            block.k_rule.k_threshold.fill_(1.3 + 0.7654321 * i)
        ids, mask = batch()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.onnx")
            export(model, path, ["negative", "positive"])
            peer, cfg, _ = model_from_onnx(path)
        for name, want in model.state_dict().items():
            if name.endswith("k_rule.updates"):
                continue
            if (name.endswith("corpus_mean") and cfg.router.importance_norm != "corpus") or \
                    (name.endswith("k_threshold") and cfg.router.k_calibration != "mean-k"):
                continue
            torch.testing.assert_close(peer.state_dict()[name], want, atol=0, rtol=0, msg=name)
        with torch.inference_mode():
            a, b = model(ids, mask), peer(ids, mask)
        for field in ("logits", "importance", "expert_count", "expert_gates", "router_probs"):
            torch.testing.assert_close(getattr(b, field), getattr(a, field), atol=0, rtol=0, msg=field)

    def test_round_trip_da_moe_mean(self):
        self._round_trip(k_max=3, importance_norm="mean", k_scale=0.5)

    def test_round_trip_corpus_norm_and_calibrated_threshold(self):
        self._round_trip(k_max=3, importance_norm="corpus", importance_heads="max", k_calibration="mean-k",
                         target_mean_k=1.5)

    def test_round_trip_top_k(self):
        self._round_trip(kind="top-k", k=1, renormalize_gates=False)

    def test_a_graph_that_is_not_a_damoe_export_is_refused(self):
        from onnx_peer import OnnxPeerError

        path = os.path.join(ROOT, "test", "fixtures", "models", "tiny-damoe", "model.onnx")
        if os.path.exists(path):
            with self.assertRaises(OnnxPeerError):
                model_from_onnx(path)


if __name__ == "__main__":
    unittest.main()
