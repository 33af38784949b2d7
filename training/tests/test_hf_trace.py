"""The Hugging Face hooks trace writer (damoe/hf_trace.py) on stand-in modules laid out as transformers' modelling
files are (tests/test_hf_export.py's Mixtral/Qwen2-MoE and DeepSeek-V3 blocks): transformers is not installed here,
so training/record_hf_trace.py's model loading is not run; its writer part is. The hooks must record exactly the
router logits the blocks compute themselves, and the file must round-trip."""
import base64
import json
import os
import tempfile
import unittest

import numpy as np
import torch

from damoe.hf_trace import FORMAT, header, record_line, record_router_logits, write_trace
from tests.test_hf_export import SparseDeepseekBlock, SparseSoftmaxBlock, StandInCausalLM

QWEN_CONFIG = {"model_type": "qwen2_moe", "num_hidden_layers": 2, "num_experts": 4, "num_experts_per_tok": 2,
               "hidden_size": 16, "moe_intermediate_size": 8}
DEEPSEEK_CONFIG = {"model_type": "deepseek_v3", "num_hidden_layers": 2, "n_routed_experts": 4, "num_experts_per_tok": 2,
                   "n_group": 2, "topk_group": 1, "norm_topk_prob": True, "routed_scaling_factor": 2.5,
                   "first_k_dense_replace": 0, "n_shared_experts": 1, "hidden_size": 16, "moe_intermediate_size": 8}


class TestHfTrace(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.ids = torch.randint(0, 30, (9,))

    def test_hooks_record_the_blocks_own_router_logits(self):
        model = StandInCausalLM([SparseSoftmaxBlock(2, False), SparseSoftmaxBlock(2, False)]).eval()
        got = record_router_logits(model, QWEN_CONFIG, self.ids)
        self.assertEqual(tuple(got.shape), (2, 9, 4))
        # The blocks' own router_logits (what transformers returns): run each layer by hand.
        with torch.no_grad():
            x = model.model.embed_tokens(self.ids.view(1, -1))
            for l, layer in enumerate(model.model.layers):
                y, own = layer.mlp(x)
                torch.testing.assert_close(got[l], own.view(9, -1), rtol=0, atol=1e-6)
                x = x + y
        self.assertEqual(len(model.model.layers[0].mlp._forward_pre_hooks), 0, "hooks removed")

    def test_router_without_logits_deepseek(self):
        model = StandInCausalLM([SparseDeepseekBlock(), SparseDeepseekBlock()]).eval()
        got = record_router_logits(model, DEEPSEEK_CONFIG, self.ids)
        self.assertEqual(tuple(got.shape), (2, 9, 4))
        head = header(DEEPSEEK_CONFIG, "stand-in", model)
        self.assertEqual(head["router"]["convention"], "sigmoid-group-topk")
        bias = model.model.layers[1].mlp.gate.e_score_correction_bias
        np.testing.assert_allclose(head["router"]["e_score_correction_bias"][1], bias.numpy(), rtol=0, atol=1e-7)

    def test_file_round_trip(self):
        model = StandInCausalLM([SparseSoftmaxBlock(2, False), SparseSoftmaxBlock(2, False)]).eval()
        logits = record_router_logits(model, QWEN_CONFIG, self.ids)
        head = header(QWEN_CONFIG, "stand-in")
        self.assertEqual((head["format"], head["version"], head["num_layers"], head["num_experts"], head["k"]), (FORMAT, 1, 2, 4, 2))
        self.assertEqual(head["router"], {"convention": "softmax-topk", "input": "logits"})
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.jsonl")
            write_trace(path, head, [record_line(self.ids, logits, prompt_tokens=7, label="pos")])
            lines = open(path, encoding="utf-8").read().splitlines()
        self.assertEqual(json.loads(lines[0]), head)
        rec = json.loads(lines[1])
        self.assertEqual((rec["input_ids"], rec["prompt_tokens"], rec["label"]), (self.ids.tolist(), 7, "pos"))
        self.assertEqual(rec["router_logits"]["shape"], [2, 9, 4])
        back = np.frombuffer(base64.b64decode(rec["router_logits"]["data"]), dtype="<f4").reshape(2, 9, 4)
        np.testing.assert_array_equal(back, logits.numpy())
        with self.assertRaisesRegex(ValueError, "do not fit 8 tokens"):
            record_line(self.ids[:8], logits)


if __name__ == "__main__":
    unittest.main()
