"""Work done once per test session however many pytest-xdist processes ask for it: the example
data and the small training runs that several tests read.

A module-scoped fixture is made once per process, so with two processes each trained run was
trained twice (30-60 s each). Here the first process to ask makes it under a file lock (the
pattern pytest-xdist documents for session fixtures); the others wait on the lock, and read
what was made only once it is complete: its record is written last, still under the lock.
"""

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock


def session_folder(tmp_path_factory) -> Path:
    """The session's temporary folder every process sees (each xdist process has its own
    folder inside it)."""
    own = tmp_path_factory.getbasetemp()
    return own.parent if os.environ.get("PYTEST_XDIST_WORKER") else own


def made_once(tmp_path_factory, key: str, make: Callable[[Path], object]):
    """What `make(folder)` returned (JSON-able), made into an empty `folder` by the first
    process that asks for `key`; a failed attempt leaves no record, so the next asker retries."""
    root = session_folder(tmp_path_factory) / "made-once"
    root.mkdir(exist_ok=True)
    folder, record = root / key, root / f"{key}.json"
    with FileLock(root / f"{key}.lock"):
        if not record.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            record.write_text(json.dumps(make(folder)))
        return json.loads(record.read_text())


def trained_once(tmp_path_factory, key: str, train_into: Callable[[Path], Path]) -> Path:
    """A run `train_into(runs_root)` made once per session (`made_once`), copied into this
    process's own folder (as `runs_root/MODEL/RUN`): tests that write into their run (an
    evaluation, an export) never meet another process's writes. A run holds no absolute path
    of its own, so its copy works as the original."""
    made = Path(made_once(tmp_path_factory, key, lambda root: str(train_into(root))))
    copy = tmp_path_factory.mktemp(key) / made.parent.name / made.name
    shutil.copytree(made, copy)
    return copy
