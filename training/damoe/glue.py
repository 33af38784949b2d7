"""GLUE-style TSV reader for single sentences and sentence pairs."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

TEXT_COLUMNS = (("sentence1", "sentence2"), ("question", "sentence"), ("question1", "question2"), ("sentence", None))


class DataError(ValueError):
    """A data file that is missing, empty or malformed."""


@dataclass
class Example:
    text: str
    pair: Optional[str]
    label: Optional[int]
    line: int


def read_glue_tsv(path: str, label_values: Optional[Sequence[str]] = None) -> List[Example]:
    """Reads a GLUE TSV with a header. Labels are mapped to indices of `label_values` when given."""
    if not os.path.exists(path):
        raise DataError(f"data file not found: {path} (the GLUE data lives in ../shared/data/)")
    with open(path, encoding="utf-8", newline="") as f:
        # GLUE text contains quote characters that are not CSV quoting.
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise DataError(f"{path} is empty: expected a header line and at least one example")
    header = rows[0]
    cols: Dict[str, int] = {name: i for i, name in enumerate(header)}
    text_col = pair_col = None
    for a, b in TEXT_COLUMNS:
        if a in cols and (b is None or b in cols):
            text_col, pair_col = cols[a], (cols[b] if b else None)
            break
    if text_col is None:
        raise DataError(f"{path}: no text column; expected one of 'sentence', 'sentence1'/'sentence2', "
                        f"'question'/'sentence', 'question1'/'question2' in the header, found {header}")
    label_col = cols.get("label")
    lookup = {v: i for i, v in enumerate(label_values)} if label_values is not None else None
    out: List[Example] = []
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{path}:{n}: expected {len(header)} tab-separated columns, found {len(row)}")
        label = None
        if label_col is not None and lookup is not None:
            raw = row[label_col].strip()
            if raw not in lookup:
                raise DataError(f"{path}:{n}: unknown label {raw!r}; expected one of {list(lookup)}")
            label = lookup[raw]
        out.append(Example(row[text_col], row[pair_col] if pair_col is not None else None, label, n))
    if not out:
        raise DataError(f"{path} has a header but no examples")
    return out
