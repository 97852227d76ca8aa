"""Run directories: claiming one (lock, resume), reading its files, writing them whole.

A run directory (`runs/NAME/<timestamp>/`, see `zoo.training`) is written by one process at
a time (`claim_run` holds `.lock`), and every file in it is written whole or not at all
(written beside it, then renamed into place), so that a kill at any moment leaves a run that
resumes: the training loop (`zoo.training`) only asks this module.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import fcntl
import io
import json
import math
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

CONFIG = "config.json"
HISTORY = "history.csv"
FAILED = "failed.json"  # a run that cannot finish (diverged); never resumed or exported
LOCK = ".lock"


@contextlib.contextmanager
def claim_run(
    name: str, config: dict, runs_root: str | Path, run_dir: str | Path | None, resume: bool
) -> Iterator[Path]:
    """The run directory to train in, locked for this process until the block ends.

    An unfinished run with the same settings is resumed unless another process holds it (then
    a new run starts, and says so). An explicit `run_dir` in use by another process is an error.
    """
    if run_dir is not None:
        run = Path(run_dir)
        check_no_links_out(run)
        if (run / "metrics.json").is_file():
            raise FileExistsError(f"{run} already holds a finished run; choose a new directory.")
        if (run / CONFIG).is_file() and _read_config(run) != config:
            raise ValueError(
                f"{run} holds an unfinished run with other settings (or a damaged {CONFIG}); "
                "choose a new directory."
            )
        candidates = [run]
    else:
        candidates = _unfinished_runs(Path(runs_root) / name, config) if resume else []
    for run in candidates:
        check_no_links_out(run)
        lock = try_lock(run)
        if lock is not None:
            if run_dir is None:
                print(f"Resuming the unfinished run {run}")
            break
        if run_dir is not None:
            raise RuntimeError(f"{run} is being trained by another process; wait for it to end.")
        print(f"{run} is being trained by another process; starting a new run.")
    else:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        run = Path(runs_root) / name / stamp
        lock = None
    try:
        run.mkdir(parents=True, exist_ok=True)
        lock = lock or try_lock(run)
        if not (run / CONFIG).is_file():
            write_atomically(run / CONFIG, json.dumps(config, indent=2))
    except OSError as error:
        raise OSError(
            f"Cannot write the run directory {run}: {error.strerror}. "
            "Pass a writable --runs-root (or --run-dir)."
        ) from None
    try:
        yield run
    finally:
        lock.close()  # releases the lock


def data_reference(data: str | Path) -> str:
    """What a run records of its data: a file or folder as its absolute, resolved path (so the
    run can be evaluated and resumed from anywhere), a dataset name as it is."""
    path = Path(data)
    return str(path.resolve()) if path.exists() else str(data)


def check_no_links_out(run: Path) -> None:
    """Refuses a run directory holding a symbolic link that leaves it: the zoo (and Keras'
    callbacks, which append and overwrite in place) would write through it, outside the run."""
    if not run.is_dir():
        return
    inside = run.resolve()
    for folder, names, files in os.walk(run):  # links to folders are not followed
        for name in [*names, *files]:
            path = Path(folder, name)
            if not path.is_symlink():
                continue
            target = path.resolve()
            if target != inside and inside not in target.parents:
                raise ValueError(
                    f"{path} is a link to {target}, outside the run directory {run}: training "
                    "would write through it. Remove the link (the zoo writes only inside a "
                    "run), or train in a new run (--new, or another --run-dir)."
                )


def check_backup(backup: Path, history_csv: Path | None = None) -> None:
    """Repairs a resume state whose metadata a kill cut short, or drops it and says so; the
    history is cut to the epochs of the state training resumes from (one unit with it)."""
    metadata = backup / "training_metadata.json"
    if not metadata.exists():
        return
    previous = Path(f"{metadata}.bkp")
    for candidate in (metadata, previous):
        try:
            epochs = int(json.loads(candidate.read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if candidate is previous:
            print(f"{metadata} is damaged; resuming from the epoch before it.")
            os.replace(previous, metadata)
            weights = backup / "latest.weights.h5"
            if Path(f"{weights}.bkp").exists():
                os.replace(f"{weights}.bkp", weights)
        if history_csv is not None:
            keep_history(history_csv, epochs)
        return
    print(f"The resume state in {backup} is damaged; this run starts over from epoch 1.")
    shutil.rmtree(backup)


def keep_history(history_csv: Path, epochs: int) -> None:
    """Cuts `history.csv` to its rows of the first `epochs` epochs (a state training falls
    back to must not keep the rows of the epoch it repeats)."""
    rows = read_history(history_csv)
    kept = [row for row in rows if int(row["epoch"]) < epochs]
    if len(kept) == len(rows):
        return
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept)
    write_atomically(history_csv, text.getvalue())


def try_lock(run: Path):
    """An open lock file of `run` held exclusively by this process, or `None` if taken."""
    run.mkdir(parents=True, exist_ok=True)
    handle = open(run / LOCK, "a")  # noqa: SIM115  (held until the run ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _unfinished_runs(model_runs: Path, config: dict) -> list[Path]:
    """Unfinished, not failed runs of `config`, newest first. An unfinished run whose
    `config.json` cannot be read might be this one: named, never silently passed over."""
    if not model_runs.is_dir():
        return []
    unfinished = [
        run
        for run in sorted(model_runs.iterdir(), reverse=True)
        if run.is_dir() and not (run / "metrics.json").is_file() and not (run / FAILED).is_file()
    ]
    for run in unfinished:
        if (run / CONFIG).exists() and _read_config(run) is None:
            raise ValueError(
                f"{run / CONFIG} is damaged, so it cannot be told whether {run} is an unfinished "
                "run of these settings. Restore the file, or remove the run directory, or start "
                "a new run beside it with --new."
            )
    return [run for run in unfinished if _read_config(run) == config]


def _read_config(run: Path) -> dict | None:
    try:
        return json.loads((run / CONFIG).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def write_atomically(path: Path, text: str) -> None:
    """Writes `text` to a temporary file beside `path` and renames it over `path`."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


def save_atomically(path: Path, save) -> None:
    """`save(temporary path)` then a rename, so `path` is whole or absent."""
    staging = path.with_name(f".{os.getpid()}.{path.name}")  # keeps the suffix Keras checks
    save(staging)
    os.replace(staging, path)


def best_so_far(history_csv: Path, key: str, mode: str) -> float | None:
    values = [float(row[key]) for row in read_history(history_csv) if row.get(key)]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return min(finite) if mode == "min" else max(finite)


def epochs_trained(run: Path) -> int:
    return len(read_history(run / HISTORY))


def read_history(history_csv: Path) -> list[dict]:
    """The rows of a run's `history.csv`; a damaged file (cut short: the logger ends every line
    it writes) is named."""
    if not history_csv.is_file():
        return []
    text = history_csv.read_text(encoding="utf-8", errors="replace")
    if not text:
        return []
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    if (
        not text.endswith("\n")
        or "epoch" not in (reader.fieldnames or [])
        or any(None in row or None in row.values() for row in rows)
    ):
        raise ValueError(
            f"{history_csv} is damaged (cut short or overwritten: its lines do not read). "
            "Remove it and rerun the same command (the curves then start at the resumed "
            "epoch), or start the run over with --new."
        )
    return rows


def read_run_config(run: str | Path) -> dict[str, Any]:
    """A run's `config.json`, with errors that name the file."""
    path = Path(run) / CONFIG
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: {run} is not a run directory written by `zoo train`."
        )
    return read_json(path)


def read_json(path: str | Path) -> Any:
    """A JSON file a run holds, with an error that names the file when it is damaged."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); the run is damaged.") from None


def write_table(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Writes a UTF-8 TSV (csv-quoted where a field holds a tab, quote or newline), whole or
    not at all (a temporary file renamed into place)."""
    path = Path(path)
    staging = path.with_name(f".{path.name}.tmp")
    with open(staging, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    staging.replace(path)
    return path
