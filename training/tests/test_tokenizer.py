import json
import os
import unittest

from tests.helpers import ROOT
from damoe.wordpiece import (WordPieceTokenizer, bert_normalize, bert_pre_tokenize, tokenizer_json,
                             train_wordpiece)

SHIPPED = os.path.join(ROOT, "models", "damoe-sst2", "tokenizer.json")
PARITY = os.path.join(ROOT, "test", "fixtures", "parity", "damoe-sst2.json")


class WordPieceTest(unittest.TestCase):
    def test_normalizer_and_pre_tokenizer_follow_bert(self):
        self.assertEqual(bert_normalize("Café\tNAÏVE\x00!"), "cafe naive!")
        self.assertEqual(bert_pre_tokenize("it's 10$ (ok)"), ["it", "'", "s", "10", "$", "(", "ok", ")"])
        self.assertEqual(bert_normalize("中文"), " 中  文 ")

    def test_trainer_learns_continuations_and_encoder_is_greedy_longest_match(self):
        texts = ["the running runner runs", "running is fun", "the runner ran"] * 5
        vocab = train_wordpiece(texts, vocab_size=60)
        self.assertEqual(list(vocab)[:5], ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
        self.assertTrue(any(t.startswith("##") for t in vocab))
        tok = WordPieceTokenizer(tokenizer_json(vocab))
        ids = tok.encode("Running")
        self.assertEqual(ids[0], vocab["[CLS]"])
        self.assertEqual(ids[-1], vocab["[SEP]"])
        pieces = [list(vocab)[i] for i in ids[1:-1]]
        self.assertEqual("".join(p[2:] if p.startswith("##") else p for p in pieces), "running")
        self.assertEqual(tok.encode("zzz")[1:-1], [vocab["[UNK]"]] if "##z" not in vocab else tok.encode("zzz")[1:-1])
        pair = tok.encode("the", "fun")
        self.assertEqual(pair.count(vocab["[SEP]"]), 2)

    def test_training_is_deterministic(self):
        texts = ["a b c ab abc bca", "cab cab abc"] * 3
        self.assertEqual(train_wordpiece(texts, 30), train_wordpiece(texts, 30))

    @unittest.skipUnless(os.path.exists(SHIPPED) and os.path.exists(PARITY), "shipped model not exported yet")
    def test_ids_match_the_shipped_tokenizer_json(self):
        with open(SHIPPED, encoding="utf-8") as f:
            spec = json.load(f)
        self.assertEqual(spec["model"]["type"], "WordPiece")
        self.assertEqual(spec["normalizer"]["type"], "BertNormalizer")
        tok = WordPieceTokenizer(spec)
        with open(PARITY, encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        self.assertEqual(len(cases), 30)
        for case in cases:
            self.assertEqual(tok.encode(case["text"]), case["input_ids"], case["text"])


if __name__ == "__main__":
    unittest.main()
