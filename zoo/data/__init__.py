"""Datasets by name (or a path to the user's own file) and the tokenization they share."""

from __future__ import annotations

from pathlib import Path

from zoo.data.corpus import ParallelCorpus
from zoo.data.dates import generate_dates
from zoo.data.labelled import (
    LabelledCorpus,
    MissingDataPackageError,
    newsgroups20,
    read_labelled_file,
    rt_polarity,
)
from zoo.data.tsv import DataFileError, read_parallel_tsv

TRANSLATION_DATASETS = {"dates": generate_dates}
CLASSIFICATION_DATASETS = ("rt-polarity", "20newsgroups")


def load_translation(name_or_path: str, seed: int = 0, size: int | None = None) -> ParallelCorpus:
    """A named translation dataset, or a `source<TAB>target` file, split train/validation/test.

    Args:
        name_or_path: `"dates"`, or the path of a UTF-8 TSV file.
        seed: Seed of the generator (for generated data) and of the split.
        size: Number of pairs to generate (generated data only).
    """
    if name_or_path in TRANSLATION_DATASETS:
        generate = TRANSLATION_DATASETS[name_or_path]
        pairs = generate(seed=seed) if size is None else generate(size=size, seed=seed)
        return ParallelCorpus.split(name_or_path, pairs, seed=seed)
    path = Path(name_or_path)
    if path.suffix.lower() in (".tsv", ".txt") or path.exists():
        return ParallelCorpus.split(str(path), read_parallel_tsv(path), seed=seed)
    raise DataFileError(
        f"Unknown translation dataset {name_or_path!r}. Use one of "
        f"{sorted(TRANSLATION_DATASETS)} or the path of a 'source<TAB>target' .tsv file."
    )


def load_classification(name_or_path: str, seed: int = 0) -> LabelledCorpus:
    """A named classification dataset, or a CSV/TSV file with `text` and `label` columns.

    Args:
        name_or_path: `"rt-polarity"`, `"20newsgroups"`, or the path of a UTF-8 `.csv` /
            `.tsv` file whose header names a `text` and a `label` column.
        seed: Seed of the deterministic split.
    """
    if name_or_path == "rt-polarity":
        return LabelledCorpus.split(name_or_path, rt_polarity(), seed=seed)
    if name_or_path == "20newsgroups":
        train, test = newsgroups20()
        return LabelledCorpus.split(name_or_path, train, seed=seed, test_examples=test)
    path = Path(name_or_path)
    if path.suffix.lower() in (".csv", ".tsv", ".txt") or path.exists():
        return LabelledCorpus.split(str(path), read_labelled_file(path), seed=seed)
    raise DataFileError(
        f"Unknown classification dataset {name_or_path!r}. Use one of "
        f"{list(CLASSIFICATION_DATASETS)} or the path of a .csv/.tsv file with 'text' and "
        "'label' columns."
    )


__all__ = [
    "CLASSIFICATION_DATASETS",
    "DataFileError",
    "LabelledCorpus",
    "MissingDataPackageError",
    "ParallelCorpus",
    "TRANSLATION_DATASETS",
    "load_classification",
    "load_translation",
    "read_labelled_file",
    "read_parallel_tsv",
]
