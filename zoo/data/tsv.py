"""User parallel data: a UTF-8 file of `source<TAB>target` lines."""

from __future__ import annotations

from pathlib import Path


class DataFileError(ValueError):
    """A user data file that cannot be read; the message names the file and the line."""


def check_data_file(path: Path) -> None:
    """Raises `DataFileError` unless `path` is a file (a folder is named as such)."""
    if path.is_dir():
        raise DataFileError(f"{path} is a folder; give the path of a data file in it.")
    if not path.is_file():
        raise DataFileError(f"Data file {path} does not exist.")


def read_parallel_tsv(path: str | Path) -> list[tuple[str, str]]:
    """Reads `source<TAB>target` lines; blank lines are skipped, anything else malformed raises."""
    path = Path(path)
    check_data_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataFileError(
            f"{path} is not UTF-8 text (byte {error.start}); re-encode it as UTF-8."
        ) from None
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise DataFileError(
                f"{path}, line {number}: expected 'source<TAB>target' (2 tab-separated fields), "
                f"found {len(fields)}: {line[:80]!r}."
            )
        source, target = (field.strip() for field in fields)
        if not source:
            raise DataFileError(f"{path}, line {number}: the source text is empty.")
        if not target:
            raise DataFileError(f"{path}, line {number}: the target text is empty.")
        pairs.append((source, target))
    if not pairs:
        raise DataFileError(f"{path} holds no 'source<TAB>target' lines.")
    return pairs
