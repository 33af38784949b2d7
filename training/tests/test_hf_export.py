"""The exporter's torch half (damoe/hf_export.py) on stand-in modules laid out and routing as transformers'
modelling files do (names and sparse dispatch of mixtral/modeling_mixtral.py, qwen2_moe/modeling_qwen2_moe.py,
deepseek_v3/modeling_deepseek_v3.py): dense dispatch must reproduce the sparse forward, the hooks must record the
router logits, and the wrapper must export to ONNX with the contract's outputs. transformers is not needed (nor
installed here); export_hf.py's refusal without it is checked too."""
import os
import subprocess
import sys
import tempfile
import types
import unittest

import onnx
import torch
import torch.nn.functional as F
from torch import nn

from damoe.hf_export import ContractWrapper, ExportError, Recorder, correction_bias, export, install, moe_blocks

H, E, V = 16, 4, 30
TRAINING = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class MLP(nn.Module):
    def __init__(self, inter=8):
        super().__init__()
        self.gate_proj, self.up_proj = nn.Linear(H, inter, bias=False), nn.Linear(H, inter, bias=False)
        self.down_proj = nn.Linear(inter, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class SparseSoftmaxBlock(nn.Module):
    """Mixtral's / Qwen2-MoE's sparse dispatch: softmax, topk, (renormalise), a loop over experts with index_add_;
    returns (hidden, router_logits) as they do. shared=True adds Qwen2-MoE's sigmoid-gated shared expert."""

    def __init__(self, k, renorm, shared=False):
        super().__init__()
        self.gate = nn.Linear(H, E, bias=False)
        self.experts = nn.ModuleList([MLP() for _ in range(E)])
        self.k, self.renorm = k, renorm
        if shared:
            self.shared_expert, self.shared_expert_gate = MLP(), nn.Linear(H, 1, bias=False)

    def forward(self, hidden_states):
        B, T, D = hidden_states.shape
        x = hidden_states.view(-1, D)
        router_logits = self.gate(x)
        w = F.softmax(router_logits, dim=1, dtype=torch.float)
        w, sel = torch.topk(w, self.k, dim=-1)
        if self.renorm:
            w = w / w.sum(dim=-1, keepdim=True)
        out = torch.zeros_like(x)
        mask = F.one_hot(sel, num_classes=E).permute(2, 1, 0)
        for e in range(E):
            idx, top_x = torch.where(mask[e])
            out.index_add_(0, top_x, self.experts[e](x[top_x]) * w[top_x, idx, None])
        if hasattr(self, "shared_expert"):
            out = out + torch.sigmoid(self.shared_expert_gate(x)) * self.shared_expert(x)
        return out.view(B, T, D), router_logits


class TopkRouter(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(E, H) * 0.3)
        self.register_buffer("e_score_correction_bias", torch.randn(E) * 0.3)


class SparseDeepseekBlock(nn.Module):
    """DeepseekV3MoE: the router returns (topk_indices, topk_weights), no logits; one shared expert; 2 groups, 1 kept."""

    def __init__(self):
        super().__init__()
        self.gate = TopkRouter()
        self.experts = nn.ModuleList([MLP() for _ in range(E)])
        self.shared_experts = MLP()

    def forward(self, hidden_states):
        B, T, D = hidden_states.shape
        x = hidden_states.view(-1, D)
        scores = F.linear(x, self.gate.weight).sigmoid()
        choice = scores + self.gate.e_score_correction_bias
        groups = choice.view(-1, 2, E // 2).topk(2, dim=-1)[0].sum(-1)
        keep = torch.zeros_like(groups).scatter(1, groups.topk(1, dim=-1)[1], 1)
        masked = choice.masked_fill(keep.repeat_interleave(E // 2, dim=1) == 0, 0.0)
        idx = masked.topk(2, dim=-1)[1]
        w = scores.gather(1, idx)
        w = w / (w.sum(-1, keepdim=True) + 1e-20) * 2.5
        out = torch.zeros_like(x)
        for e in range(E):
            tok, slot = torch.where(idx == e)
            out.index_add_(0, tok, self.experts[e](x[tok]) * w[tok, slot, None])
        return out.view(B, T, D) + self.shared_experts(hidden_states)


class Layer(nn.Module):
    def __init__(self, mlp):
        super().__init__()
        self.mlp = mlp

    def forward(self, x):
        y = self.mlp(x)
        return x + (y[0] if isinstance(y, tuple) else y)


class StandInCausalLM(nn.Module):
    """model.model.layers[i].mlp, model.lm_head; forward(input_ids=, attention_mask=, ...) -> .logits."""

    def __init__(self, mlps):
        super().__init__()
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(V, H)
        self.model.layers = nn.ModuleList([Layer(m) for m in mlps])
        self.lm_head = nn.Linear(H, V, bias=False)

    def forward(self, input_ids, attention_mask, use_cache=False, return_dict=True):
        x = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            x = layer(x)
        return types.SimpleNamespace(logits=self.lm_head(x))


MIXTRAL = {"convention": "softmax-topk-renorm"}
QWEN = {"convention": "softmax-topk"}
DEEPSEEK = {"convention": "sigmoid-group-topk", "n_group": 2, "topk_group": 1, "norm_topk_prob": True,
            "routed_scaling_factor": 2.5}


class TestHfExport(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.ids = torch.randint(0, V, (2, 7))

    def check_dense_equals_sparse(self, mlps, router, dense):
        model = StandInCausalLM(mlps).eval()
        with torch.no_grad():
            sparse = model(self.ids, torch.ones_like(self.ids)).logits
        blocks = moe_blocks(model, dense)
        recorder = Recorder()
        undo = install(model, blocks, router, 2, recorder)
        with torch.no_grad():
            patched = model(self.ids, torch.ones_like(self.ids)).logits
        self.assertLess(float((patched - sparse).abs().max()), 1e-5)
        self.assertEqual(len(recorder.logits), len(blocks))
        self.assertEqual(tuple(recorder.stacked().shape), (len(blocks), 2, 7, E))
        undo()
        with torch.no_grad():
            self.assertTrue(torch.equal(model(self.ids, torch.ones_like(self.ids)).logits, sparse))
        return model, blocks

    def test_mixtral_dense_dispatch_and_recorded_logits(self):
        model, blocks = self.check_dense_equals_sparse([SparseSoftmaxBlock(2, True), SparseSoftmaxBlock(2, True)], MIXTRAL, [])
        recorder = Recorder()
        install(model, blocks, MIXTRAL, 2, recorder)
        x = torch.randn(1, 3, H)
        blocks[0][1](x)
        self.assertTrue(torch.allclose(recorder.logits[0], blocks[0][2](x), atol=1e-6))

    def test_qwen2_moe_shared_expert_and_dense_layer(self):
        self.check_dense_equals_sparse([SparseSoftmaxBlock(2, False, shared=True), MLP(), SparseSoftmaxBlock(2, False, shared=True)],
                                       QWEN, [1])

    def test_deepseek_records_logits_transformers_does_not_return(self):
        _, blocks = self.check_dense_equals_sparse([MLP(), SparseDeepseekBlock(), SparseDeepseekBlock()], DEEPSEEK, [0])
        bias = correction_bias(blocks)
        self.assertEqual(len(bias), 2)
        self.assertEqual(bias[0], [float(v) for v in blocks[0][2].e_score_correction_bias])

    def test_layers_that_do_not_match_the_config_are_refused(self):
        model = StandInCausalLM([MLP(), SparseDeepseekBlock()])
        with self.assertRaisesRegex(ExportError, r"MoE blocks found in decoder layers \[1\], but config.json makes layers \[0, 1\] sparse"):
            moe_blocks(model, [])

    def test_exports_the_causal_contract_outputs(self):
        model = StandInCausalLM([MLP(), SparseDeepseekBlock()]).eval()
        blocks = moe_blocks(model, [0])
        recorder = Recorder()
        install(model, blocks, DEEPSEEK, 2, recorder)
        wrapper = ContractWrapper(model, "causal-lm", recorder).eval()
        with torch.no_grad():
            loss, ids, lps, routed = wrapper(self.ids, torch.ones_like(self.ids))
            lp = torch.log_softmax(model(self.ids, None).logits, -1)
        self.assertEqual(float(loss[0, 0]), 0.0)
        self.assertAlmostEqual(float(loss[1, 3]), float(-lp[1, 2, self.ids[1, 3]]), places=5)
        self.assertEqual(tuple(ids.shape), (2, 7, 5))
        self.assertTrue(torch.all(lps[..., :-1] >= lps[..., 1:]))
        self.assertEqual(tuple(routed.shape), (1, 2, 7, E))
        with tempfile.TemporaryDirectory() as d, torch.no_grad():
            path = os.path.join(d, "model.onnx")
            export(wrapper, "causal-lm", path, [1, 2, 3, 4])
            m = onnx.load(path)
            onnx.checker.check_model(m)
            self.assertEqual([o.name for o in m.graph.output],
                             ["token_loss", "next_token_topk_ids", "next_token_topk_logprobs", "router_logits"])

    def test_script_refuses_clearly_without_transformers(self):
        try:
            import transformers  # noqa: F401
            self.skipTest("transformers is installed here")
        except ImportError:
            pass
        r = subprocess.run([sys.executable, os.path.join(TRAINING, "export_hf.py"), "/nonexistent", "/tmp/out"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("needs the Python package 'transformers'", r.stderr)
        self.assertIn("pip install 'transformers>=4.46' safetensors", r.stderr)
        h = subprocess.run([sys.executable, os.path.join(TRAINING, "export_hf.py"), "--help"], capture_output=True, text=True)
        self.assertEqual(h.returncode, 0)
        self.assertIn("Requires transformers", h.stdout)


if __name__ == "__main__":
    unittest.main()
