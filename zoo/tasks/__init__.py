"""The task registry: one module per task, imported the first time the task is used.

A task module (`zoo/tasks/<task>.py`) owns everything about its task (data, pipeline, loss,
metrics, settings, evaluation, prediction, serving signatures) and ends with `TASK = ...`, an
instance of `zoo.tasks.base.Task`. Training, tuning, export, the CLI and the recipes ask the
task; none of them names one. Task modules import TensorFlow, so this registry imports them
only on demand: `import zoo` and the models stay usable with keras and any backend.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoo.tasks.base import Task

# Explicit, in the order `zoo list` documents them; a new task adds one line here.
TASK_MODULES = {
    "translation": "zoo.tasks.translation",
    "classification": "zoo.tasks.classification",
    "forecasting": "zoo.tasks.forecasting",
    "speech": "zoo.tasks.speech",
}
TASK_NAMES = tuple(TASK_MODULES)


def get_task(name: str) -> Task:
    """The task registered under `name`."""
    if name not in TASK_MODULES:
        raise ValueError(f"Unknown task {name!r}; the zoo's tasks are {list(TASK_NAMES)}.")
    return importlib.import_module(TASK_MODULES[name]).TASK


def task_of_model(name: str) -> Task:
    """The task of registered model `name`."""
    from zoo.registry import spec

    return get_task(spec(name).task)
