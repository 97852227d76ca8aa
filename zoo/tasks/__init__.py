"""The table of tasks. Each task is a folder, `zoo/tasks/<task>/`:

    settings.py    its training settings (plain Python: `zoo describe` and `--set` checks)
    examples.py    example inputs and a tiny configuration (plain Python; the registry-wide
                   tests and the docs use them)
    pipeline.py    data -> model inputs, the same TensorFlow functions in training, prediction
                   and the export
    predictor.py   a trained model with its pipeline, and an export answering the same way
    serving.py     the export's signatures
    task.py        `TASK`, a `zoo.tasks.base.Task`: the hooks training, tuning, export and
                   the CLI call

plus what a task really has beyond that (scoring, calibration, explanations, augmentation).
Training, tuning, export, the CLI and the recipes ask the task; none of them names one. The
task modules import TensorFlow, so they load on first use: `import zoo` and the models stay
usable with keras and any backend.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoo.tasks.base import Task
    from zoo.tasks.settings import TaskSettings

# The one table of tasks, in the order `zoo list` documents them: a new task adds its folder
# and one line here.
TASK_NAMES = ("translation", "classification", "forecasting", "speech")


def _module(task: str, part: str):
    if task not in TASK_NAMES:
        raise ValueError(f"Unknown task {task!r}; the zoo's tasks are {list(TASK_NAMES)}.")
    return importlib.import_module(f"zoo.tasks.{task}.{part}")


def get_task(name: str) -> Task:
    """The task registered under `name` (imports its TensorFlow modules)."""
    return _module(name, "task").TASK


def task_settings(name: str) -> TaskSettings:
    """The training settings task `name` declares (plain Python, no backend)."""
    return _module(name, "settings").SETTINGS


def task_examples(name: str):
    """The module of task `name`'s example inputs and tiny configuration (plain Python)."""
    return _module(name, "examples")
