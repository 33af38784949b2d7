"""export_gpu: the GPU graph (model.gpu.onnx) beside the sparse graph. Its outputs against the sparse graph's run
in onnxruntime are tested in test/integration/gpu-graph.test.ts (no onnxruntime in this Python); here: the graph's
ops, the weights it reads from model.onnx, its metadata, that the dense forward it traces equals the sparse one, and
the refusal of a model that is not the one model.onnx was exported from."""
import hashlib
import json
import os
import tempfile
import unittest

import onnx
import torch

from tests.helpers import batch, tiny_model
from damoe.export_onnx import GPU_GRAPH_FILE, GPU_GRAPH_KEY, export, export_gpu


class GpuGraphTest(unittest.TestCase):
    def test_no_nonzero_weights_read_from_model_onnx_and_metadata(self):
        cases = (("da-moe", "sequence-classification", {"k_max": 3}), ("top-k", "sequence-classification", {"k": 2}),
                 ("da-moe", "causal-lm", {"k_max": 3, "received_correction": "uniform-causal"}))
        for kind, task, extra in cases:
            model = tiny_model(kind=kind, seed=3, task=task, **extra)
            labels = [] if model.causal else ["a", "b"]
            with tempfile.TemporaryDirectory() as d:
                sparse_path = os.path.join(d, "model.onnx")
                export(model, sparse_path, labels)
                info = export_gpu(model, sparse_path, labels)
                gpu = onnx.load(os.path.join(d, GPU_GRAPH_FILE), load_external_data=False)
                ops = {n.op_type for n in gpu.graph.node}
                self.assertNotIn("NonZero", ops, kind)
                self.assertNotIn("Split", ops, kind)
                sparse_bytes = open(sparse_path, "rb").read()
                external = [t for t in gpu.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
                self.assertGreater(len(external), 0)
                full = onnx.load(os.path.join(d, GPU_GRAPH_FILE))  # resolves the external data
                by_name = {t.name: t for t in full.graph.initializer}
                for t in external:
                    loc = {e.key: e.value for e in t.external_data}
                    self.assertEqual(loc["location"], "model.onnx")
                    off, n = int(loc["offset"]), int(loc["length"])
                    self.assertEqual(sparse_bytes[off:off + n], by_name[t.name].raw_data)
                meta = {p.key: p.value for p in gpu.metadata_props}
                self.assertEqual(json.loads(meta["moe.contract"]),
                                 json.loads({p.key: p.value for p in onnx.load(sparse_path).metadata_props}["moe.contract"]))
                self.assertEqual(json.loads(meta[GPU_GRAPH_KEY]), info)
                self.assertEqual(info["sparse_graph_sha256"], hashlib.sha256(sparse_bytes).hexdigest())
                self.assertEqual(info["expert_compute"], "dense-masked")

    def test_the_dense_forward_it_traces_equals_the_sparse_one(self):
        for task, extra in (("sequence-classification", {}), ("causal-lm", {"received_correction": "uniform-causal"})):
            model = tiny_model(seed=5, k_max=3, task=task, **extra)
            ids, mask = batch(seed=4)
            with torch.no_grad():
                sparse, dense = model(ids, mask), model(ids, mask, dense=True)
            self.assertTrue(torch.equal(sparse.expert_count, dense.expert_count), task)
            self.assertEqual(dense.expert_count.dtype, torch.int64)
            self.assertTrue(torch.equal(sparse.expert_gates, dense.expert_gates), task)
            self.assertLess(float((sparse.logits - dense.logits).abs().max()), 1e-5, task)

    def test_refuses_a_model_that_model_onnx_was_not_exported_from(self):
        with tempfile.TemporaryDirectory() as d:
            sparse_path = os.path.join(d, "model.onnx")
            export(tiny_model(seed=1, k_max=3), sparse_path, ["a", "b"])
            with self.assertRaisesRegex(ValueError, "not the one that file was exported from"):
                export_gpu(tiny_model(seed=2, k_max=3), sparse_path, ["a", "b"])
            self.assertFalse(os.path.exists(os.path.join(d, GPU_GRAPH_FILE)))


if __name__ == "__main__":
    unittest.main()
