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


def read_utf8_text(path: Path) -> str:
    """The text of a user's file; one that is not UTF-8 is named with the line to fix."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataFileError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset "
            f"{error.start}); re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)."
        ) from None


def read_parallel_tsv(
    path: str | Path, source_column: int = 1, target_column: int = 2
) -> list[tuple[str, str]]:
    """Reads tab-separated lines, the source and target in the given (1-based) columns.

    By default a line is exactly `source<TAB>target`; with other columns, a line may have more
    fields. Blank lines are skipped, anything else malformed raises `DataFileError`.
    """
    path = Path(path)
    check_data_file(path)
    for name, column in (("source_column", source_column), ("target_column", target_column)):
        if isinstance(column, bool) or not isinstance(column, int) or column < 1:
            raise ValueError(f"`{name}` must be a column number >= 1, received {column!r}.")
    if source_column == target_column:
        raise ValueError(f"source_column and target_column are both {source_column}.")
    text = read_utf8_text(path)
    default_columns = (source_column, target_column) == (1, 2)
    needed = max(source_column, target_column)
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if default_columns and len(fields) != 2:
            raise DataFileError(
                f"{path}, line {number}: expected 'source<TAB>target' (2 tab-separated fields), "
                f"found {len(fields)}: {line[:80]!r}. For a file with more columns, pick two: "
                "--set source_column=N --set target_column=M (1-based)."
            )
        if len(fields) < needed:
            raise DataFileError(
                f"{path}, line {number}: {len(fields)} tab-separated fields, but "
                f"source_column={source_column} and target_column={target_column}: "
                f"{line[:80]!r}."
            )
        source, target = fields[source_column - 1].strip(), fields[target_column - 1].strip()
        if not source:
            raise DataFileError(f"{path}, line {number}: the source text is empty.")
        if not target:
            raise DataFileError(f"{path}, line {number}: the target text is empty.")
        pairs.append((source, target))
    if not pairs:
        raise DataFileError(f"{path} holds no 'source<TAB>target' lines.")
    return pairs
