import json
import os
import tempfile
import unittest

import onnx
import torch

from tests.helpers import batch, tiny_model
from damoe.export_onnx import OUTPUT_NAMES, export


class ExportTest(unittest.TestCase):
    def test_round_trip_passes_the_checker_and_carries_the_contract(self):
        model = tiny_model(k_max=3, importance_norm="mean", k_scale=0.5)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.onnx")
            export(model, path, ["negative", "positive"])
            proto = onnx.load(path)
            onnx.checker.check_model(proto)
            self.assertEqual([i.name for i in proto.graph.input], ["input_ids", "attention_mask"])
            self.assertEqual([o.name for o in proto.graph.output], OUTPUT_NAMES)
            self.assertGreaterEqual(proto.opset_import[0].version, 13)
            meta = json.loads({p.key: p.value for p in proto.metadata_props}["moe.contract"])
            self.assertEqual(meta["router_kind"], "da-moe")
            self.assertEqual((meta["num_layers"], meta["num_experts"], meta["k_max"]), (2, 4, 3))
            self.assertEqual(meta["labels"], ["negative", "positive"])
            self.assertEqual(meta["tokenizer"], "tokenizer.json")
            dims = proto.graph.input[0].type.tensor_type.shape.dim
            self.assertEqual([d.dim_param for d in dims], ["batch", "sequence"])
            types = {o.name: o.type.tensor_type.elem_type for o in proto.graph.output}
            self.assertEqual(types["expert_count"], onnx.TensorProto.INT64)
            self.assertEqual(types["expert_gates"], onnx.TensorProto.FLOAT)
            ops = {n.op_type for n in proto.graph.node}
            self.assertIn("NonZero", ops, "the exported graph must use sparse dispatch")

    def test_expert_outputs_are_added_with_a_reducing_scatter(self):
        # A token with K experts appears K times in the one scatter that adds the experts' outputs; a scatter
        # without reduction="add" (what torch exports for index_add and index_put) would keep only one of them.
        model = tiny_model(k_max=3)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.onnx")
            export(model, path, ["negative", "positive"])
            proto = onnx.load(path)
        scatters = [n for n in proto.graph.node if n.op_type == "ScatterND"]
        reductions = [{a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}.get("reduction") for n in scatters]
        self.assertEqual(reductions, [b"add"] * model.cfg.num_layers)
        # Each layer cuts the chosen rows into the experts' shares by sizes computed at run time: a Split whose sizes
        # come from no constant (a traced torch.split would have frozen the sizes of the example batch).
        constants = {i.name for i in proto.graph.initializer} | {o for n in proto.graph.node if n.op_type == "Constant" for o in n.output}
        splits = [n for n in proto.graph.node if n.op_type == "Split" and len(n.output) == model.cfg.num_experts]
        self.assertEqual(len(splits), model.cfg.num_layers)
        self.assertTrue(all(n.input[1] not in constants for n in splits))

    def test_export_leaves_the_model_in_eval_mode(self):
        model = tiny_model()
        model.cfg.dropout = 0.5
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = 0.5
        ids, mask = batch()
        before = model(ids, mask).logits
        with tempfile.TemporaryDirectory() as d:
            export(model, os.path.join(d, "model.onnx"), ["a", "b"])
        self.assertFalse(any(m.training for m in model.modules()))
        self.assertTrue(torch.equal(model(ids, mask).logits, before))

    def test_failed_export_leaves_the_good_file_alone(self):
        model = tiny_model()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "model.onnx")
            with open(path, "wb") as f:
                f.write(b"good model")
            model.forward = None  # export of a broken module raises mid-way
            with self.assertRaises(Exception):
                export(model, path, ["a", "b"])
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"good model")
            self.assertEqual(os.listdir(d), ["model.onnx"])


if __name__ == "__main__":
    unittest.main()
