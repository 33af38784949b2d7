import unittest

import torch

from tests.helpers import batch, tiny_model
from damoe.config import RouterConfig
from damoe.routing import experts_per_token, token_importance


class RoutingTest(unittest.TestCase):
    def test_k_within_bounds_on_real_tokens_and_zero_on_pads(self):
        for norm in ("max", "mean", "sum"):
            model = tiny_model(k_max=3, importance_norm=norm, k_scale=1.0)
            ids, mask = batch()
            out = model(ids, mask)
            k = out.expert_count
            real = mask.bool().expand_as(k)
            self.assertTrue(bool(((k >= 1) & (k <= 3))[real].all()), norm)
            self.assertTrue(bool((k[~real] == 0).all()), norm)
            self.assertTrue(bool((out.expert_gates[~real] == 0).all()))
            self.assertTrue(bool((out.router_probs[~real] == 0).all()))

    def test_count_matches_nonzero_gates_and_gates_sum_to_one(self):
        for kind, extra in (("da-moe", {"k_max": 4}), ("top-k", {"k": 2})):
            model = tiny_model(kind=kind, **extra)
            ids, mask = batch(seed=3)
            out = model(ids, mask)
            real = mask.bool().unsqueeze(0).expand_as(out.expert_count)
            self.assertTrue(torch.equal((out.expert_gates > 0).sum(-1)[real], out.expert_count[real]))
            sums = out.expert_gates.sum(-1)[real]
            self.assertTrue(torch.allclose(sums, torch.ones_like(sums), atol=1e-6), kind)

    def test_switch_gate_is_router_probability(self):
        model = tiny_model(kind="top-k", k=1, renormalize_gates=False)
        ids, mask = batch()
        out = model(ids, mask)
        real = mask.bool()
        top = out.router_probs.max(-1).values
        self.assertTrue(torch.allclose(out.expert_gates.sum(-1)[:, real], top[:, real], atol=1e-7))

    def test_importance_is_attention_received_normalised_by_max(self):
        attn = torch.tensor([[[[0.5, 0.3, 0.2, 0.0],
                               [0.1, 0.6, 0.3, 0.0],
                               [0.2, 0.2, 0.6, 0.0],
                               [0.9, 0.05, 0.05, 0.0]]]])  # last row and column: a pad
        mask = torch.tensor([[1, 1, 1, 0]])
        imp = token_importance(attn, mask, "max")
        received = torch.tensor([0.8, 1.1, 1.1]) / 3
        self.assertTrue(torch.allclose(imp[0, :3], received / received.max()))
        self.assertEqual(float(imp[0, 3]), 0.0)
        k = experts_per_token(imp, mask, RouterConfig(kind="da-moe", k_max=4, k_scale=1.0))
        self.assertEqual(k.tolist(), [[3, 4, 4, 0]])
        k_half = experts_per_token(imp, mask, RouterConfig(kind="da-moe", k_max=4, k_scale=0.5))
        self.assertEqual(k_half.tolist(), [[2, 2, 2, 0]])

    def test_sparse_dispatch_equals_dense_masked_compute(self):
        for kind, extra in (("da-moe", {"k_max": 3}), ("top-k", {"k": 1, "renormalize_gates": False})):
            model = tiny_model(kind=kind, seed=7, **extra)
            ids, mask = batch(seed=5, b=4, t=12)
            sparse = model(ids, mask)
            dense = model(ids, mask, dense=True)
            self.assertLess(float((sparse.logits - dense.logits).abs().max()), 1e-5, kind)
            self.assertTrue(torch.equal(sparse.expert_count, dense.expert_count))

    def test_sparse_dispatch_gradients_match_dense(self):
        model = tiny_model(seed=11, k_max=2).train()
        ids, mask = batch(seed=2)
        grads = []
        for dense in (False, True):
            model.zero_grad()
            model(ids, mask, dense=dense).logits.sum().backward()
            grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
        self.assertLess(float((grads[0] - grads[1]).abs().max()), 1e-5)


if __name__ == "__main__":
    unittest.main()
