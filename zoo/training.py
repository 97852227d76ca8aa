"""The shared training loop: run directories, checkpoints and resume, history, evaluation.

`train("lstm_luong_nmt", data="dates")` writes `runs/lstm_luong_nmt/<timestamp>/`:

    config.json           model, task, training settings, dataset
    text.json, *vocab.txt the text pipeline (tokenizers, vocabularies; labels.txt: classes)
    checkpoints/          Keras BackupAndRestore state (resume) and the best weights
    history.csv           one row per epoch (Keras CSVLogger)
    learning_curves.png
    model.keras           the trained model (best epoch by the task's monitored metric)
    metrics.json          test-set metrics; its presence marks the run as finished
    attention/            attention maps (PNG; and HTML pages for classifiers) of a few examples
    examples.json         a few validation inputs (export records them as warmup requests)

What differs between tasks (data, pipeline, loss, metrics, artifacts) sits behind
`zoo.tasks.base.Task`. Running the same command again after an interruption finds the unfinished run
with the same settings and resumes it from its last completed epoch.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras

from zoo import plots, registry
from zoo.tasks import task_of_model
from zoo.tasks.base import Task

# Training settings every task has, and their defaults. A task adds its own and may change
# these (`Task.settings`), an entry may change both (`ModelSpec.training`), and so may the data
# (`Task.data_settings`); a `--hparams` JSON or `--set` changes any of them.
COMMON_SETTINGS: dict[str, Any] = {
    "epochs": 30,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "clipnorm": 1.0,
    "patience": 4,
    "seed": 0,
}
EXAMPLES_KEPT = 5  # validation inputs kept in the run for export's warmup requests


def training_defaults(name: str, data: str | Path | None = None) -> dict[str, Any]:
    """The training settings `zoo train NAME --data DATA` uses when none is given."""
    spec = registry.spec(name)
    task = task_of_model(name)
    return {
        **COMMON_SETTINGS,
        **task.settings,
        **spec.training,
        **task.data_settings(str(data or spec.default_data)),
    }


def resolve_settings(
    name: str, data: str | Path | None, settings: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(model arguments, complete training settings)` of `name` on `data`; unknown keys raise."""
    spec = registry.spec(name)
    defaults = training_defaults(name, data)
    unknown = sorted(set(settings) - set(spec.defaults) - set(defaults))
    if unknown:
        raise ValueError(
            f"Unknown hyperparameter(s) {unknown} for {name!r}. Model arguments: "
            f"{sorted(spec.defaults)}; training settings: {sorted(defaults)}."
        )
    model_args = {k: v for k, v in settings.items() if k in spec.defaults}
    training = {**defaults, **{k: v for k, v in settings.items() if k in defaults}}
    return model_args, training


def load_hparams(path: str | Path) -> dict[str, Any]:
    """Reads a JSON object of hyperparameters (as `zoo tune` writes `best_hparams.json`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Hyperparameter file {path} does not exist.")
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}.") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold a JSON object of name: value pairs.")
    return values.get("hyperparameters", values)


def build_compiled(
    name: str, model_args: dict[str, Any], training: dict[str, Any], pipeline: Any
) -> keras.Model:
    """The registered model sized to the data's pipeline, compiled with the training settings."""
    task = task_of_model(name)
    model = registry.spec(name).build(**{**model_args, **task.model_sizes(pipeline)})
    task.compile(model, training)
    return model


def train(
    name: str,
    data: str | None = None,
    *,
    runs_root: str | Path = "runs",
    run_dir: str | Path | None = None,
    resume: bool = True,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    **settings: Any,
) -> Path:
    """Trains registered model `name` on `data` (its default dataset if `None`), evaluates it.

    Args:
        name: A registered model name.
        data: A dataset name or a path to a data file.
        runs_root: Where run directories are created.
        run_dir: An explicit run directory (created, or resumed if it holds an unfinished run).
        resume: Whether to resume an unfinished run with the same settings.
        callbacks: Extra Keras callbacks.
        verbose: Keras' `fit` verbosity (the progress bar by default).
        **settings: Model arguments (see `zoo.spec(name).defaults`) and training settings
            (see `training_defaults(name, data)`).

    Returns:
        The run directory.
    """
    spec = registry.spec(name)
    task: Task = task_of_model(name)
    data = data or spec.default_data
    model_args, training = resolve_settings(name, data, settings)
    config = {
        "model": name,
        "task": spec.task,
        "data": str(data),
        "model_args": model_args,
        "training": training,
        "zoo_version": _version(),
    }
    corpus = task.load_data(str(data), training["seed"])  # bad data fails before any write
    run = _choose_run_dir(name, config, runs_root, run_dir, resume)
    keras.utils.set_random_seed(training["seed"])
    try:
        pipeline = task.load_pipeline(run)
    except FileNotFoundError:
        pipeline = task.fit_pipeline(corpus, training)
        pipeline.save(run)
    model = build_compiled(name, model_args, training, pipeline)
    train_data, validation_data = task.datasets(pipeline, corpus, training)
    checkpoints = run / "checkpoints"
    best_weights = checkpoints / "best.weights.h5"
    history_csv = run / "history.csv"
    monitor, mode = task.monitor
    fit_callbacks = [
        keras.callbacks.BackupAndRestore(str(checkpoints / "backup")),
        keras.callbacks.ModelCheckpoint(
            str(best_weights),
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=_best_so_far(history_csv, monitor, mode),
        ),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=training["patience"]),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
        keras.callbacks.TerminateOnNaN(),
        *callbacks,
    ]
    model.fit(
        train_data,
        validation_data=validation_data,
        epochs=training["epochs"],
        shuffle=False,  # the dataset shuffles itself
        callbacks=fit_callbacks,
        verbose=progress_verbosity(verbose),
    )
    if best_weights.is_file():
        model.load_weights(best_weights)
    model.save(run / "model.keras")
    if history_csv.is_file():
        plots.learning_curves(history_csv, run / "learning_curves.png")

    metrics = task.evaluate(run, model, pipeline, corpus, training)
    metrics.update({"model": name, "data": str(data), "epochs_trained": _epochs(history_csv)})
    examples = task.examples(corpus)[:EXAMPLES_KEPT]
    (run / "examples.json").write_text(json.dumps(examples, ensure_ascii=False, indent=2))
    (run / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    return run


def progress_verbosity(verbose: int | str) -> int | str:
    """Keras' progress bar on a terminal; one line per epoch in logs and pipes."""
    if verbose == "auto" and not sys.stdout.isatty():
        return 2
    return verbose


# -- run directories ------------------------------------------------------------------------


def _choose_run_dir(
    name: str, config: dict, runs_root: str | Path, run_dir: str | Path | None, resume: bool
) -> Path:
    if run_dir is not None:
        run = Path(run_dir)
        if (run / "metrics.json").is_file():
            raise FileExistsError(f"{run} already holds a finished run; choose a new directory.")
        if (run / "config.json").is_file() and _read_config(run) != config:
            raise ValueError(f"{run} holds an unfinished run with other settings.")
    else:
        run = _unfinished_run(Path(runs_root) / name, config) if resume else None
        if run is None:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            run = Path(runs_root) / name / stamp
    try:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps(config, indent=2))
    except OSError as error:
        raise OSError(
            f"Cannot write the run directory {run}: {error.strerror}. "
            "Pass a writable --runs-root (or --run-dir)."
        ) from None
    return run


def _unfinished_run(model_runs: Path, config: dict) -> Path | None:
    if not model_runs.is_dir():
        return None
    for run in sorted(model_runs.iterdir(), reverse=True):
        finished = (run / "metrics.json").is_file()
        if not finished and (run / "config.json").is_file() and _read_config(run) == config:
            print(f"Resuming the unfinished run {run}")
            return run
    return None


def _read_config(run: Path) -> dict | None:
    try:
        return json.loads((run / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _best_so_far(history_csv: Path, key: str, mode: str) -> float | None:
    values = [float(row[key]) for row in _history(history_csv) if row.get(key)]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    return min(finite) if mode == "min" else max(finite)


def _epochs(history_csv: Path) -> int:
    return len(_history(history_csv))


def _history(history_csv: Path) -> list[dict]:
    if not history_csv.is_file():
        return []
    with open(history_csv, newline="") as f:
        return list(csv.DictReader(f))


def _version() -> str:
    from zoo import __version__

    return __version__


__all__ = ["COMMON_SETTINGS", "load_hparams", "resolve_settings", "train", "training_defaults"]
