import os
import subprocess
import sys
import tempfile
import unittest

from tests.helpers import TRAINING
from damoe.config import ConfigError, ModelConfig, RouterConfig
from damoe.glue import DataError, read_glue_tsv


def write(text: str) -> str:
    fd, path = tempfile.mkstemp(suffix=".tsv")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class ConfigTest(unittest.TestCase):
    def test_k_max_above_num_experts_is_refused(self):
        with self.assertRaisesRegex(ConfigError, r"k_max \(9\) must be between 1 and num_experts \(8\)"):
            ModelConfig(router=RouterConfig(k_max=9)).validate()

    def test_other_contradictions_are_refused(self):
        with self.assertRaisesRegex(ConfigError, "divisible by num_heads"):
            ModelConfig(d_model=130, num_heads=4).validate()
        with self.assertRaisesRegex(ConfigError, "router.kind"):
            ModelConfig(router=RouterConfig(kind="hash")).validate()
        with self.assertRaisesRegex(ConfigError, "k_scale must be positive"):
            ModelConfig(router=RouterConfig(k_scale=0)).validate()
        with self.assertRaisesRegex(ConfigError, r"router.k \(0\)"):
            ModelConfig(router=RouterConfig(kind="top-k", k=0)).validate()


class GlueReaderTest(unittest.TestCase):
    def test_single_sentences_and_pairs(self):
        ex = read_glue_tsv(write("sentence\tlabel\na fine film\t1\nawful\t0\n"), ["0", "1"])
        self.assertEqual([(e.text, e.pair, e.label, e.line) for e in ex],
                         [("a fine film", None, 1, 2), ("awful", None, 0, 3)])
        pairs = read_glue_tsv(write('index\tsentence1\tsentence2\tlabel\n0\tA "quoted" one.\tB.\tentailment\n'),
                              ["entailment", "not_entailment"])
        self.assertEqual((pairs[0].text, pairs[0].pair, pairs[0].label), ('A "quoted" one.', "B.", 0))

    def test_bad_files_give_specific_errors(self):
        cases = [
            ("/nonexistent/train.tsv", "data file not found"),
            (write(""), "is empty"),
            (write("sentence\tlabel\n"), "no examples"),
            (write("text\tlabel\nx\t1\n"), "no text column"),
            (write("sentence\tlabel\nok\t1\nbroken row\n"), r":3: expected 2 tab-separated columns, found 1"),
            (write("sentence\tlabel\nok\tmaybe\n"), r":2: unknown label 'maybe'"),
        ]
        for path, message in cases:
            with self.assertRaisesRegex(DataError, message):
                read_glue_tsv(path, ["0", "1"])

    def test_train_py_reports_bad_input_without_a_traceback(self):
        bad = write("sentence\tlabel\nok\tmaybe\n")
        with tempfile.TemporaryDirectory() as out:
            r = subprocess.run([sys.executable, os.path.join(TRAINING, "train.py"), "--preset", "damoe-mean",
                                "--out", out, "--train-file", bad, "--dev-file", bad,
                                "--tokenizer", os.path.join(out, "tok.json")],
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown label 'maybe'", r.stderr)
        self.assertNotIn("Traceback", r.stderr)


if __name__ == "__main__":
    unittest.main()
