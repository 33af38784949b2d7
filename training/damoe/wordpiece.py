"""WordPiece tokenizer: a trainer that writes a Hugging Face `tokenizer.json`, and an encoder that reads one.

The encoder follows the Hugging Face `tokenizers` semantics for the components we write (BertNormalizer,
BertPreTokenizer, WordPiece, TemplateProcessing), so ids from Python equal ids from any reader of the file.
The trainer is BPE-style with `##` continuation, as the Hugging Face WordPiece trainer is.
"""
from __future__ import annotations

import collections
import json
import os
import re
import tempfile
import unicodedata
from typing import Dict, Iterable, List, Optional, Tuple

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PREFIX = "##"
MAX_INPUT_CHARS_PER_WORD = 100


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Cn", "Co", "Cs")


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_chinese(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def bert_normalize(text: str) -> str:
    """BertNormalizer(clean_text, handle_chinese_chars, strip_accents=None -> follows lowercase, lowercase)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_chinese(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    text = unicodedata.normalize("NFD", "".join(out))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return text.lower()


def bert_pre_tokenize(text: str) -> List[str]:
    words: List[str] = []
    for chunk in text.split():
        cur = []
        for ch in chunk:
            if _is_punctuation(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(ch)
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
    return words


def train_wordpiece(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Dict[str, int]:
    """Learns a WordPiece vocabulary by frequency-ordered merges of adjacent symbols."""
    counts: collections.Counter = collections.Counter()
    for t in texts:
        counts.update(bert_pre_tokenize(bert_normalize(t)))
    words = [w for w in counts if len(w) <= MAX_INPUT_CHARS_PER_WORD]
    freqs = [counts[w] for w in words]
    symbols = [[w[0]] + [PREFIX + c for c in w[1:]] for w in words]

    vocab: Dict[str, int] = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    for syms in symbols:
        for s in syms:
            vocab.setdefault(s, len(vocab))

    pair_counts: collections.Counter = collections.Counter()
    where: Dict[Tuple[str, str], set] = collections.defaultdict(set)
    for wi, syms in enumerate(symbols):
        for a, b in zip(syms, syms[1:]):
            pair_counts[(a, b)] += freqs[wi]
            where[(a, b)].add(wi)

    while len(vocab) < vocab_size and pair_counts:
        # Ties break on the pair itself so training is deterministic.
        (a, b), c = max(pair_counts.items(), key=lambda kv: (kv[1], kv[0]))
        if c < min_frequency:
            break
        merged = a + (b[len(PREFIX):] if b.startswith(PREFIX) else b)
        vocab.setdefault(merged, len(vocab))
        for wi in list(where.pop((a, b), ())):
            syms = symbols[wi]
            for x, y in zip(syms, syms[1:]):
                pair_counts[(x, y)] -= freqs[wi]
                if pair_counts[(x, y)] <= 0:
                    del pair_counts[(x, y)]
                where[(x, y)].discard(wi)
            i, new = 0, []
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    new.append(merged)
                    i += 2
                else:
                    new.append(syms[i])
                    i += 1
            symbols[wi] = new
            for x, y in zip(new, new[1:]):
                pair_counts[(x, y)] += freqs[wi]
                where[(x, y)].add(wi)
        pair_counts.pop((a, b), None)
    return vocab


def tokenizer_json(vocab: Dict[str, int]) -> dict:
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for t in SPECIAL_TOKENS
        ],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": PREFIX, "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": PREFIX,
                  "max_input_chars_per_word": MAX_INPUT_CHARS_PER_WORD, "vocab": vocab},
    }


def write_atomic(path: str, data: bytes) -> None:
    """Writes to a temporary file beside `path`, then renames, so a good file is never left half-written."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class WordPieceTokenizer:
    """Encodes text with a BERT-style `tokenizer.json` (the kind `tokenizer_json` writes)."""

    def __init__(self, spec: dict):
        model = spec.get("model", {})
        if model.get("type") != "WordPiece":
            raise ValueError(f"expected a WordPiece tokenizer.json, found model type {model.get('type')!r}")
        self.vocab: Dict[str, int] = model["vocab"]
        self.unk_id = self.vocab[model.get("unk_token", "[UNK]")]
        self.max_chars = model.get("max_input_chars_per_word", MAX_INPUT_CHARS_PER_WORD)
        self.cls_id, self.sep_id = self.vocab["[CLS]"], self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]
        added = sorted((t["content"] for t in spec.get("added_tokens", [])), key=len, reverse=True)
        self._added = re.compile("|".join(re.escape(t) for t in added)) if added else None

    @staticmethod
    def from_file(path: str) -> "WordPieceTokenizer":
        with open(path, encoding="utf-8") as f:
            return WordPieceTokenizer(json.load(f))

    def _word_ids(self, word: str) -> List[int]:
        if len(word) > self.max_chars:
            return [self.unk_id]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else PREFIX + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            ids.append(found)
            start = end
        return ids

    def _segment_ids(self, text: str) -> List[int]:
        ids: List[int] = []
        pos = 0
        pieces = []
        if self._added is not None:
            for m in self._added.finditer(text):
                pieces.append((text[pos:m.start()], None))
                pieces.append((None, self.vocab[m.group(0)]))
                pos = m.end()
        pieces.append((text[pos:], None))
        for chunk, special in pieces:
            if special is not None:
                ids.append(special)
                continue
            for w in bert_pre_tokenize(bert_normalize(chunk)):
                ids.extend(self._word_ids(w))
        return ids

    def encode(self, text: str, pair: Optional[str] = None, max_len: Optional[int] = None) -> List[int]:
        a = self._segment_ids(text)
        b = self._segment_ids(pair) if pair is not None else None
        if max_len is not None:
            budget = max_len - (3 if b is not None else 2)
            if b is None:
                a = a[:budget]
            else:
                while len(a) + len(b) > budget:
                    if len(a) >= len(b):
                        a.pop()
                    else:
                        b.pop()
        ids = [self.cls_id] + a + [self.sep_id]
        if b is not None:
            ids += b + [self.sep_id]
        return ids
