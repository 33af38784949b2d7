"""config.json -> contract metadata for each Hugging Face MoE family (training/damoe/hf_config.py), on abridged
configs of public models (tests/fixtures/hf_configs). Each expectation follows the family's modelling file in
transformers (src/transformers/models/<family>/modeling_<family>.py); transformers itself is not needed."""
import json
import os
import unittest

from damoe.hf_config import UnsupportedModel, contract_metadata

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "hf_configs")


def config(name):
    with open(os.path.join(HERE, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


class TestHfConfig(unittest.TestCase):
    def test_mixtral_softmax_topk_renormalised(self):
        m = contract_metadata(config("mixtral"))
        self.assertEqual(m["router"], {"convention": "softmax-topk-renorm", "input": "logits"})
        self.assertEqual((m["k"], m["num_experts"], m["num_layers"]), (2, 8, 32))
        self.assertNotIn("dense_layers", m)
        self.assertEqual(m["expert_flops_per_token"], 2 * 3 * 4096 * 14336)
        self.assertEqual((m["contract_version"], m["task"], m["router_kind"]), (2, "causal-lm", "top-k"))

    def test_qwen2_moe_default_no_renorm_and_sigmoid_shared_expert(self):
        m = contract_metadata(config("qwen2_moe"))
        self.assertEqual(m["router"]["convention"], "softmax-topk")
        self.assertEqual(m["shared_experts"], {"count": 1, "gate": "sigmoid"})
        self.assertEqual((m["k"], m["num_experts"], m["num_layers"]), (4, 60, 24))
        self.assertEqual(m["expert_flops_per_token"], 2 * 3 * 2048 * 1408)

    def test_qwen2_moe_sparse_step_and_mlp_only_layers(self):
        # (i + 1) % 2 != 0 -> dense: 0, 2, 4; mlp_only_layers adds 3.
        m = contract_metadata(config("qwen2_moe_sparse_step"), task="sequence-classification")
        self.assertEqual(m["dense_layers"], [0, 2, 3, 4])
        self.assertEqual(m["num_layers"], 2)
        self.assertEqual(m["router"]["convention"], "softmax-topk-renorm")
        self.assertNotIn("shared_experts", m)
        self.assertEqual(m["labels"], ["negative", "positive"])

    def test_olmoe_default_softmax_topk(self):
        m = contract_metadata(config("olmoe"))
        self.assertEqual(m["router"]["convention"], "softmax-topk")
        self.assertEqual((m["k"], m["num_experts"]), (8, 64))

    def test_deepseek_v3_grouped_sigmoid_shared_and_dense(self):
        m = contract_metadata(config("deepseek_v3"))
        self.assertEqual(m["router"], {"convention": "sigmoid-group-topk", "input": "logits", "n_group": 8,
                                       "topk_group": 4, "norm_topk_prob": True, "routed_scaling_factor": 2.5})
        self.assertEqual(m["dense_layers"], [0, 1, 2])
        self.assertEqual(m["num_layers"], 58)
        self.assertEqual(m["shared_experts"], {"count": 1, "gate": "none"})
        self.assertEqual(m["expert_flops_per_token"], 2 * 3 * 7168 * 2048)

    def test_gpt_oss_topk_softmax(self):
        m = contract_metadata(config("gpt_oss"))
        self.assertEqual(m["router"]["convention"], "topk-softmax")
        self.assertEqual((m["k"], m["num_experts"], m["num_layers"]), (4, 32, 24))

    def test_switch_capacity_and_sparse_step(self):
        m = contract_metadata(config("switch_transformers"))
        self.assertEqual(m["router"], {"convention": "switch-capacity", "input": "logits", "expert_capacity": 64})
        self.assertEqual(m["k"], 1)
        # i % 2 == 1 sparse: the even decoder layers are dense.
        self.assertEqual(m["dense_layers"], [0, 2, 4, 6, 8, 10])
        self.assertEqual(m["expert_flops_per_token"], 2 * 2 * 768 * 3072)

    def test_clear_errors(self):
        with self.assertRaisesRegex(UnsupportedModel, r"model_type 'llama' is not a supported MoE family; supported: "):
            contract_metadata({"model_type": "llama", "num_hidden_layers": 2, "num_experts": 2, "num_experts_per_tok": 1})
        with self.assertRaisesRegex(UnsupportedModel, "needs at least 2 labels"):
            contract_metadata(config("mixtral"), task="sequence-classification")
        with self.assertRaisesRegex(UnsupportedModel, "has no num_experts_per_tok"):
            cfg = config("olmoe")
            del cfg["num_experts_per_tok"]
            contract_metadata(cfg)
        with self.assertRaisesRegex(UnsupportedModel, "no MoE layer"):
            contract_metadata({**config("deepseek_v3"), "first_k_dense_replace": 61})


if __name__ == "__main__":
    unittest.main()
