"""Does importance mean anything? Two checks of a trained model, reported in its card.

- Occlusion: for sentences of the validation set, the drop in the predicted class's probability when one token is
  removed, against that token's importance, per layer (Spearman's rho: pooled over all tokens, and the mean of the
  per-sentence correlations).
- K by word class: mean K of punctuation, stop words and content words. Negations (not, no, n't, never, ...) count
  as content words here: they carry sentiment. A word's WordPiece continuations (##...) take its class.
"""
from __future__ import annotations

import random
from typing import Dict, List, Sequence

import torch

from .batching import pad_batch, sorted_batches
from .model import MoEClassifier

STOP_WORDS = frozenset("""
a an the and or but if then so than too very of at by for with about against between into through during before
after above below to from up down in out on off over under again further once here there when where why how all any
both each few more most other some such only own same s 's 't can will just should now i me my myself we our ours
ourselves you your yours yourself yourselves he him his himself she her hers herself it its itself they them their
theirs themselves what which who whom this that these those am is are was were be been being have has had having do
does did doing would could might must shall may 're 've 'd 'll 'm as until while because also yet
""".split())
NEGATIONS = frozenset("not no n't never nor none nothing neither nobody nowhere cannot".split())
CLASSES = ("punctuation", "stop word", "content word")


def rankdata(x):
    """Ranks with ties averaged (as scipy.stats.rankdata), for Spearman's rho."""
    import numpy as np
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=np.float64)
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return ranks


def spearman(a, b) -> float:
    import numpy as np
    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def word_classes(ids: Sequence[int], id_to_piece: Dict[int, str]) -> List[str]:
    """The class of each token between [CLS] and [SEP] (ids[1:-1])."""
    out: List[str] = []
    for i in ids[1:-1]:
        piece = id_to_piece.get(i, "")
        if piece.startswith("##") and out:
            out.append(out[-1])
        elif piece and not any(ch.isalnum() for ch in piece):
            out.append("punctuation")
        elif piece in STOP_WORDS and piece not in NEGATIONS:
            out.append("stop word")
        else:
            out.append("content word")
    return out


@torch.no_grad()
def occlusion(model: MoEClassifier, seqs: Sequence[Sequence[int]], sample: int = 200, seed: int = 0) -> dict:
    model.eval()
    picked = sorted(random.Random(seed).sample(range(len(seqs)), min(sample, len(seqs))))
    layers = model.cfg.num_layers
    pooled_imp: List[List[float]] = [[] for _ in range(layers)]
    pooled_drop: List[float] = []
    per_sentence: List[List[float]] = [[] for _ in range(layers)]
    for n in picked:
        ids = list(seqs[n])
        inner = range(1, len(ids) - 1)  # [CLS] and [SEP] stay
        variants = [ids] + [ids[:i] + ids[i + 1:] for i in inner]
        batch, mask = pad_batch(variants, model.cfg.pad_id)
        out = model(batch, mask)
        probs = torch.softmax(out.logits, -1)
        c = int(probs[0].argmax())
        drop = (probs[0, c] - probs[1:, c]).tolist()
        pooled_drop.extend(drop)
        for layer in range(layers):
            imp = out.importance[layer, 0, 1:len(ids) - 1].tolist()
            pooled_imp[layer].extend(imp)
            if len(imp) >= 3:
                rho = spearman(imp, drop)
                if rho == rho:  # not NaN: constant drops or importances have no rank correlation
                    per_sentence[layer].append(rho)
    return {
        "sentences": len(picked), "tokens": len(pooled_drop), "seed": seed,
        "spearman_pooled_per_layer": [spearman(pooled_imp[layer], pooled_drop) for layer in range(layers)],
        "spearman_mean_per_sentence_per_layer": [sum(v) / max(len(v), 1) for v in per_sentence],
    }


@torch.no_grad()
def k_by_word_class(model: MoEClassifier, seqs: Sequence[Sequence[int]], id_to_piece: Dict[int, str]) -> dict:
    model.eval()
    layers = model.cfg.num_layers
    sums = {c: [0.0] * layers for c in CLASSES}
    counts = {c: 0 for c in CLASSES}
    for idx in sorted_batches([len(s) for s in seqs], 256):
        batch, mask = pad_batch([seqs[i] for i in idx], model.cfg.pad_id)
        k = model(batch, mask).expert_count
        for row, i in enumerate(idx):
            classes = word_classes(seqs[i], id_to_piece)
            for pos, cls in enumerate(classes, start=1):
                counts[cls] += 1
                for layer in range(layers):
                    sums[cls][layer] += float(k[layer, row, pos])
    result = {}
    for cls in CLASSES:
        per_layer = [s / max(counts[cls], 1) for s in sums[cls]]
        result[cls] = {"tokens": counts[cls], "mean_k": sum(per_layer) / layers, "mean_k_per_layer": per_layer}
    return result
