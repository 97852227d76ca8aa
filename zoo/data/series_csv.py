"""A user's time series from a CSV file: one series (a timestamp column, the target, numeric
covariates), or many in one long file with a series id column (a panel: shops, meters,
stations), each on its own regular grid.

Plain numpy and the standard library (no TensorFlow).
"""

from __future__ import annotations

import csv
import datetime
import math
from pathlib import Path

import numpy as np

from zoo.data.calendar_steps import (
    MONTH,
    QUARTER,
    calendar_step,
    month_index,
    months_per_step,
    parse_moment,
    step_name,
)
from zoo.data.panels import stack
from zoo.data.timeseries import DAY, Series, to_iso, to_seconds
from zoo.data.tsv import DataFileError, check_data_file

TIMESTAMP_NAMES = ("timestamp", "time", "date", "datetime", "ds")


def read_series_csv(
    path: str | Path, target: str = "", timestamp: str = "", allow_future: bool = False
) -> tuple[Series, int]:
    """Reads a CSV of a timestamp column, a numeric target and numeric covariates.

    Args:
        path: A UTF-8 CSV file with a header row.
        target: The target column; may be omitted when the file has one value column.
        timestamp: The timestamp column (ISO dates/times); default a column named timestamp,
            time, date, datetime or ds, else the first column.
        allow_future: Whether rows at the end may leave the target empty (the future to
            forecast, given with its known covariates).

    Returns:
        The series (empty future targets are NaN) and the number of rows with a target.

    Raises:
        DataFileError: naming the file, line and column of the first problem: a missing or
            non-numeric value, NaN, an unparseable, duplicate or out-of-order timestamp,
            missing or irregularly spaced steps.
    """
    path = Path(path)
    header, lines = _read_rows(path)
    columns = _value_columns(path, header, target, timestamp, series_id="")
    return _parse(path, path.stem, header, lines, columns, allow_future, where=str(path))


def read_panel_csv(
    path: str | Path,
    series_id: str,
    target: str = "",
    timestamp: str = "",
    allow_future: bool = False,
) -> tuple[Series, list[int]]:
    """Reads a long CSV of many series: each row a series id, a time, the target and the
    covariates; a series' rows in time order (the series may be interleaved).

    Args:
        path: A UTF-8 CSV file with a header row.
        series_id: The column naming each row's series.
        target, timestamp, allow_future: As `read_series_csv`, for every series.

    Returns:
        The series stacked in the order of their first row (`Series.ids`, `Series.starts`),
        and how many rows of each have a target.

    Raises:
        DataFileError: as `read_series_csv`, naming the series too, and when the series'
            steps differ or an id is empty.
    """
    path = Path(path)
    header, lines = _read_rows(path)
    if series_id not in header:
        raise DataFileError(
            f"{path} has no series id column {series_id!r}; its columns are {header} (set it "
            "with `--set series_id=COLUMN`, or leave it unset for a file of one series)."
        )
    columns = _value_columns(path, header, target, timestamp, series_id)
    column = header.index(series_id)
    groups: dict[str, list[tuple[int, list[str]]]] = {}
    for line, row in lines:
        key = row[column].strip() if len(row) == len(header) else ""
        if not key and len(row) == len(header):
            raise DataFileError(f"{path}, line {line}: the series id {series_id!r} is empty.")
        groups.setdefault(key, []).append((line, row))
    parts, known = [], []
    for key, rows in groups.items():
        where = f"{path} (series {key!r})"
        series, count = _parse(path, key, header, rows, columns, allow_future, where)
        parts.append(series)
        known.append(count)
    steps = {series.step for series in parts}
    if len(steps) > 1:
        found = {series.name: series.step for series in parts[:10]}
        raise DataFileError(
            f"{path}: the series have different steps (seconds between rows: {found}); "
            "resample them to one step."
        )
    return stack(parts, path.stem), known


def read_csv_series(
    path: str | Path,
    target: str = "",
    timestamp: str = "",
    series_id: str = "",
    allow_future: bool = False,
) -> Series:
    """`read_panel_csv` when `series_id` names the id column, else `read_series_csv`."""
    if series_id:
        return read_panel_csv(path, series_id, target, timestamp, allow_future)[0]
    return read_series_csv(path, target, timestamp, allow_future)[0]


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and `(line number, fields)` of every non-empty row."""
    check_data_file(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError as error:
        raise DataFileError(f"{path} is not UTF-8 text (byte {error.start}).") from None
    if len(rows) < 2:
        raise DataFileError(f"{path} needs a header row and at least one data row.")
    lines = [(line, row) for line, row in enumerate(rows[1:], start=2) if any(map(str.strip, row))]
    return [name.strip() for name in rows[0]], lines


def _value_columns(
    path: Path, header: list[str], target: str, timestamp: str, series_id: str
) -> tuple[str, list[str]]:
    """The timestamp column, and the value columns with the target first."""
    time_column = _timestamp_column(path, header, timestamp)
    value_columns = [name for name in header if name not in (time_column, series_id)]
    if not target:
        if len(value_columns) != 1:
            raise DataFileError(
                f"{path} has several value columns {value_columns}: say which one to forecast "
                "with `--set target=COLUMN`."
            )
        target = value_columns[0]
    if target not in value_columns:
        raise DataFileError(
            f"{path} has no target column {target!r}; its columns are {header} "
            "(set it with `--set target=COLUMN`)."
        )
    return time_column, [target] + [name for name in value_columns if name != target]


def _parse(
    path: Path,
    name: str,
    header: list[str],
    lines: list[tuple[int, list[str]]],
    columns: tuple[str, list[str]],
    allow_future: bool,
    where: str,
) -> tuple[Series, int]:
    time_column, names = columns
    target = names[0]
    indices = [header.index(column) for column in names]
    time_index = header.index(time_column)
    times, values, known_rows = [], [], 0
    for line, row in lines:
        if len(row) != len(header):
            raise DataFileError(
                f"{path}, line {line}: {len(row)} fields where the header has {len(header)}."
            )
        try:
            moment = parse_moment(row[time_index])
        except ValueError:
            raise DataFileError(
                f"{path}, line {line}: cannot read {row[time_index]!r} in column "
                f"{time_column!r} as a date/time (write ISO 8601, e.g. 2014-12-01 00:30, or "
                "2014-12 for a month)."
            ) from None
        times.append(to_seconds(moment))
        parsed = []
        for column, i in zip(names, indices, strict=True):
            cell = row[i].strip()
            if column == target and not cell and allow_future:
                parsed.append(math.nan)
                continue
            parsed.append(_number(path, line, column, cell))
        if not math.isnan(parsed[0]):
            if known_rows != len(values):
                raise DataFileError(
                    f"{where}, line {line}: the target {target!r} is given after rows that "
                    "leave it empty; only the last rows (the future to forecast) may."
                )
            known_rows += 1
        values.append(parsed)
    series_times = np.array(times, dtype="int64")
    step = _check_grid(where, series_times, [line for line, _ in lines])
    series = Series(name, series_times, np.array(values, dtype="float64"), tuple(names), step)
    return series, known_rows


def _timestamp_column(path: Path, header: list[str], timestamp: str) -> str:
    if timestamp:
        if timestamp not in header:
            raise DataFileError(
                f"{path} has no timestamp column {timestamp!r}; its columns are {header}."
            )
        return timestamp
    for name in header:
        if name.lower() in TIMESTAMP_NAMES:
            return name
    return header[0]


def _number(path: Path, line: int, column: str, cell: str) -> float:
    if not cell:
        raise DataFileError(f"{path}, line {line}: column {column!r} is empty.")
    try:
        value = float(cell)
    except ValueError:
        raise DataFileError(
            f"{path}, line {line}: column {column!r} holds {cell!r}, not a number."
        ) from None
    if not math.isfinite(value):
        raise DataFileError(
            f"{path}, line {line}: column {column!r} is {cell!r}; fill or interpolate missing "
            "values first (the models need every value, in training and in a forecast's input)."
        )
    return value


def _check_grid(path: str, times: np.ndarray, lines: list[int]) -> int:
    """The step of a regular time grid; raises naming the first line that breaks it."""
    if len(times) < 2:
        raise DataFileError(f"{path} holds fewer than two time steps (line {lines[0]}).")
    gaps = np.diff(times)
    for i in np.flatnonzero(gaps <= 0):
        kind = "repeats" if gaps[i] == 0 else "comes before"
        raise DataFileError(
            f"{path}, line {lines[i + 1]}: timestamp {to_iso(times[i + 1])} {kind} the one on "
            f"line {lines[i]}; sort the rows by time and remove duplicates."
        )
    step = int(np.median(gaps))
    if step >= 28 * DAY:  # calendar months or quarters, whose length in seconds varies
        return _check_calendar_grid(path, times, lines)
    for i in np.flatnonzero(gaps != step):
        missing = gaps[i] // step - 1
        detail = f"{missing} step(s) missing" if gaps[i] % step == 0 else "irregular spacing"
        raise DataFileError(
            f"{path}, line {lines[i + 1]}: {to_iso(times[i + 1])} follows "
            f"{to_iso(times[i])}, but the series has a row every "
            f"{datetime.timedelta(seconds=step)} ({detail}); resample it to a regular grid and "
            "fill the gaps."
        )
    return step


def _check_calendar_grid(path: str, times: np.ndarray, lines: list[int]) -> int:
    """`MONTH` or `QUARTER` for rows a calendar month (quarter) apart; raises naming the first
    line that breaks the grid."""
    found = calendar_step(times)
    if found:
        return found
    months = np.diff([month_index(t) for t in times])
    step = MONTH if np.median(months) < 2 else QUARTER
    expected = months_per_step(step)
    for i in range(1, len(times)):
        if months[i - 1] != expected or calendar_step(times[i - 1 : i + 1]) != step:
            raise DataFileError(
                f"{path}, line {lines[i]}: {to_iso(times[i])} follows {to_iso(times[i - 1])}, "
                f"but the series has a row every {step_name(step)}: each row must fall on the "
                "same day (or each on its month's last day) of consecutive "
                f"{step_name(step)}s; fill the missing ones."
            )
    raise DataFileError(
        f"{path}: rows a {step_name(step)} apart must all fall on the same day and time of "
        "their month, or all on their month's last day."
    )
