"""DA-MoE reference implementation: model, routers, tokenizer trainer, GLUE reader and ONNX export."""
