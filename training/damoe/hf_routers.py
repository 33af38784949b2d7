"""The router conventions of the Hugging Face MoE families, in PyTorch: router logits -> dense gates [N, E] (zeros
for unchosen experts), as transformers' modelling files compute them (src/transformers/models/<family>/
modeling_<family>.py, named per function). Used by training/export_hf.py to run a Hugging Face MoE block with dense
dispatch (every expert evaluated, mixed by these gates: exportable to ONNX with no data-dependent control flow), and
by the reference routers of test/fixtures/models/hf/make-hf-fixtures.py. The convention names are the contract's
(docs/model-contract.md#router-conventions); src/core/routers/derive.ts is the TypeScript side.
"""
import torch


def dense_gates(indices, values, num_experts):
    """[N, k] chosen experts and their weights -> [N, E] with zeros elsewhere."""
    return torch.zeros(indices.shape[0], num_experts, dtype=values.dtype).scatter(1, indices, values)


def softmax_topk(logits, k, norm_topk_prob):
    """mixtral (always renormalised), olmoe, qwen2_moe, qwen3_moe: softmax(dim=1, float) -> topk -> / sum when
    norm_topk_prob. Returns (probabilities, chosen indices, dense gates)."""
    probs = torch.softmax(logits, dim=1, dtype=torch.float)
    w, idx = torch.topk(probs, k, dim=-1)
    if norm_topk_prob:
        w = w / w.sum(dim=-1, keepdim=True)
    return probs, idx, dense_gates(idx, w, logits.shape[1])


def topk_softmax(logits, k):
    """gpt_oss (GptOssTopKRouter: the router bias is already in the logits), granitemoe, jetmoe: topk of the logits,
    softmax over the k. Returns (chosen indices, dense gates)."""
    top, idx = torch.topk(logits, k, dim=-1)
    top = torch.softmax(top, dim=1, dtype=top.dtype)
    return idx, dense_gates(idx, top, logits.shape[1])


def sigmoid_group_topk(logits, k, n_group, topk_group, norm_topk_prob, routed_scaling_factor, bias):
    """deepseek_v3 (DeepseekV3TopkRouter), glm4_moe: scores = sigmoid; choice = scores + e_score_correction_bias;
    groups scored by the sum of their top-2 choices; topk_group groups kept, the other choices masked_fill'ed with
    0.0; topk(choice, k); gates = the unbiased scores gathered, / (sum + 1e-20) when norm_topk_prob, * scale.
    Returns (scores, masked choice, group scores, kept-group mask, chosen indices, dense gates)."""
    E = logits.shape[1]
    scores = logits.float().sigmoid()
    choice = scores + bias.unsqueeze(0)
    group_scores = choice.view(-1, n_group, E // n_group).topk(min(2, E // n_group), dim=-1)[0].sum(dim=-1)
    group_idx = torch.topk(group_scores, k=topk_group, dim=-1)[1]
    group_mask = torch.zeros_like(group_scores).scatter(1, group_idx, 1.0)
    score_mask = group_mask.unsqueeze(-1).expand(-1, n_group, E // n_group).reshape(-1, E)
    masked = choice.masked_fill(score_mask == 0, 0.0)
    idx = torch.topk(masked, k=k, dim=-1)[1]
    w = scores.gather(1, idx)
    if norm_topk_prob:
        w = w / (w.sum(dim=-1, keepdim=True) + 1e-20)
    w = w * routed_scaling_factor
    return scores, masked, group_scores, group_mask > 0, idx, dense_gates(idx, w, E)


def switch_capacity(logits, expert_capacity):
    """switch_transformers (SwitchTransformersTop1Router): softmax; one_hot(argmax); cumsum over the sequence
    (dim -2 of [B, T, E]); kept where the cumsum <= expert_capacity. Returns (probabilities [B, T, E], one-hot choice,
    dense gates [B*T, E] = kept one-hot * top probability, dropped [B*T] in {0, 1}, top probability [B*T])."""
    E = logits.shape[-1]
    probs = torch.softmax(logits, dim=-1)
    top = probs.max(dim=-1)
    one_hot = torch.zeros_like(probs).scatter(-1, top.indices.unsqueeze(-1), 1.0)
    kept = one_hot * (torch.cumsum(one_hot, dim=-2) <= expert_capacity).float()
    p = top.values.reshape(-1)
    gates = kept.reshape(-1, E) * p.unsqueeze(-1)
    dropped = 1.0 - kept.sum(-1).reshape(-1)
    return probs, one_hot, gates, dropped, p
