"""Datasets by name (or a path to the user's own file) and the tokenization they share."""

from __future__ import annotations

from pathlib import Path

from zoo.data.bible import bible_es_en
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

TRANSLATION_DATASETS = ("dates", "bible-es-en")
CLASSIFICATION_DATASETS = ("rt-polarity", "20newsgroups")
# A data folder's files: train.tsv, and optionally its own validation and test sets.
SPLIT_FILES = {"validation": ("dev.tsv", "valid.tsv", "validation.tsv"), "test": ("test.tsv",)}


def load_translation(
    name_or_path: str,
    seed: int = 0,
    size: int | None = None,
    *,
    columns: tuple[int, int] = (1, 2),
    validation: str | Path | None = None,
    test: str | Path | None = None,
) -> ParallelCorpus:
    """A named translation dataset, or the user's TSV file(s), as train/validation/test.

    Args:
        name_or_path: `"dates"`, `"bible-es-en"`, the path of a UTF-8 TSV file, or a folder
            with `train.tsv` (and optionally `dev.tsv` / `valid.tsv` / `validation.tsv` and
            `test.tsv`).
        seed: Seed of the generator (for generated data) and of the split.
        size: Number of pairs to generate (generated data only).
        columns: The 1-based source and target columns of the TSV files.
        validation, test: The user's own held-out files; a set not given is cut from the
            training file (5 % each).
    """
    if name_or_path in TRANSLATION_DATASETS:
        if validation is not None or test is not None:
            raise DataFileError(
                f"Dataset {name_or_path!r} has its own validation and test sets; "
                "--validation-data / --test-data go with your own --data file."
            )
        if tuple(columns) != (1, 2):
            raise DataFileError(
                f"source_column / target_column choose the columns of your TSV files; dataset "
                f"{name_or_path!r} has none to choose."
            )
        if name_or_path == "bible-es-en":
            return bible_es_en()
        pairs = generate_dates(seed=seed) if size is None else generate_dates(size=size, seed=seed)
        return ParallelCorpus.split(name_or_path, pairs, seed=seed)
    path = Path(name_or_path)
    if path.is_dir():
        path, validation, test = _split_files(path, validation, test)
    elif path.suffix.lower() not in (".tsv", ".txt") and not path.exists():
        raise DataFileError(
            f"Unknown translation dataset {name_or_path!r}. Use one of "
            f"{list(TRANSLATION_DATASETS)}, the path of a 'source<TAB>target' .tsv file, or a "
            "folder with train.tsv (and dev.tsv, test.tsv)."
        )

    def read(file):
        return None if file is None else read_parallel_tsv(file, *columns)

    return ParallelCorpus.split(
        str(path), read(path), seed=seed, validation_pairs=read(validation), test_pairs=read(test)
    )


def _split_files(folder: Path, validation, test) -> tuple[Path, Path | None, Path | None]:
    """`folder`'s train.tsv and held-out files; files given explicitly win."""
    train = folder / "train.tsv"
    if not train.is_file():
        raise DataFileError(
            f"{folder} is a folder without train.tsv. A data folder holds train.tsv and, "
            "optionally, dev.tsv (or valid.tsv / validation.tsv) and test.tsv; or give a file."
        )
    found = {
        part: next((folder / n for n in names if (folder / n).is_file()), None)
        for part, names in SPLIT_FILES.items()
    }
    return train, validation or found["validation"], test or found["test"]


def load_classification(
    name_or_path: str,
    seed: int = 0,
    *,
    validation: str | Path | None = None,
    test: str | Path | None = None,
) -> LabelledCorpus:
    """A named classification dataset, or a CSV/TSV file with `text` and `label` columns.

    Args:
        name_or_path: `"rt-polarity"`, `"20newsgroups"`, or the path of a UTF-8 `.csv` /
            `.tsv` file whose header names a `text` and a `label` column.
        seed: Seed of the deterministic split.
        validation, test: The user's own held-out files (same format); a set not given is cut
            from the training file (10 % each).
    """
    if name_or_path in CLASSIFICATION_DATASETS and (validation is not None or test is not None):
        raise DataFileError(
            f"Dataset {name_or_path!r} has its own validation and test sets; "
            "--validation-data / --test-data go with your own --data file."
        )
    if name_or_path == "rt-polarity":
        return LabelledCorpus.split(name_or_path, rt_polarity(), seed=seed)
    if name_or_path == "20newsgroups":
        train, test = newsgroups20()
        return LabelledCorpus.split(name_or_path, train, seed=seed, test_examples=test)
    path = Path(name_or_path)
    if path.suffix.lower() in (".csv", ".tsv", ".txt") or path.exists():
        return LabelledCorpus.split(
            str(path),
            read_labelled_file(path),
            seed=seed,
            validation_examples=None if validation is None else read_labelled_file(validation),
            test_examples=None if test is None else read_labelled_file(test),
        )
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
