"""The shared training loop: run directories, checkpoints and resume, history, evaluation.

`train("lstm_luong_nmt", data="dates")` writes `runs/lstm_luong_nmt/<timestamp>/`:

    config.json           model, task, training settings, dataset
    text.json, *vocab.txt the text pipeline (tokenizers, vocabularies; labels.txt: classes),
                          or series.json, a forecaster's (columns, windows, scaling)
    checkpoints/          Keras BackupAndRestore state (resume) and the best weights
    history.csv           one row per epoch (Keras CSVLogger)
    tensorboard/          TensorBoard logs: loss, metrics, learning rate, attention maps
    learning_curves.png
    model.keras           the trained model (best epoch by the task's monitored metric)
    metrics.json          test-set metrics and the Keras backend; its presence marks the run
                          as finished
    attention/            attention maps (PNG; and HTML pages for classifiers) of a few examples
    examples.json         a few validation inputs (export records them as warmup requests)

What differs between tasks (data, pipeline, loss, metrics, artifacts) sits behind
`zoo.tasks.base.Task`. Running the same command again after an interruption finds the unfinished run
with the same settings and resumes it from its last completed epoch.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras

from zoo import distribute, fine_tuning, plots
from zoo.catalog import ModelSpec, as_spec
from zoo.progress import ProgressLines
from zoo.runs import (
    FAILED,
    HISTORY,
    best_so_far,
    check_backup,
    claim_run,
    data_reference,
    epochs_trained,
    save_atomically,
    write_atomically,
)
from zoo.schedules import learning_rate_callbacks
from zoo.settings import (  # noqa: F401  (COMMON_SETTINGS, check_setting: the API's names)
    COMMON_SETTINGS,
    check_setting,
    load_hparams,
    resolve_settings,
    training_defaults,
)
from zoo.tasks import get_task
from zoo.tasks.base import Task

EXAMPLES_KEPT = 5  # validation inputs kept in the run for export's warmup requests
TENSORBOARD = "tensorboard"  # the run's TensorBoard logs


def build_compiled(
    spec: ModelSpec, model_args: dict[str, Any], training: dict[str, Any], pipeline: Any
) -> keras.Model:
    """The registered model sized to the data's pipeline, compiled with the training settings."""
    task = get_task(spec.task)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(training["precision"])  # what every layer built now uses
    try:
        model = spec.build(**{**model_args, **task.model_sizes(pipeline)})
    finally:
        keras.config.set_dtype_policy(previous)
    task.compile(model, training)  # mixed_float16: Keras adds loss scaling
    return model


def train(
    model: ModelSpec | str,
    data: str | None = None,
    *,
    validation_data: str | None = None,
    test_data: str | None = None,
    runs_root: str | Path = "runs",
    run_dir: str | Path | None = None,
    resume: bool = True,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = "auto",
    distribution: str | None = None,
    devices: int | str | None = None,
    init_from: str | Path | None = None,
    **settings: Any,
) -> Path:
    """Trains a registered model on `data` (its default dataset if `None`), evaluates it.

    Args:
        model: A registered model name, or its `ModelSpec`.
        data: A dataset name or a path to a data file (for translation, also a folder with
            train.tsv, dev.tsv, test.tsv).
        validation_data: The user's own validation file, instead of a set cut from `data`
            (translation and classification).
        test_data: The user's own test file, likewise.
        runs_root: Where run directories are created.
        run_dir: An explicit run directory (created, or resumed if it holds an unfinished run).
        resume: Whether to resume an unfinished run with the same settings.
        callbacks: Extra Keras callbacks.
        verbose: Keras' `fit` verbosity (the progress bar by default).
        distribution: `None` (one device), `"mirrored"` (local devices) or `"multi-worker"`
            (the cluster of `TF_CONFIG`; needs `run_dir` on storage every worker reaches).
            See `zoo.distribute`; `batch_size` stays the global batch.
        devices: For `"mirrored"`: a number of GPUs, or `"cpu:N"` for N CPU replicas.
        init_from: A finished run of the same model to fine-tune: its weights, architecture,
            pipeline and data-derived settings; `settings` change only training settings
            (`zoo.fine_tuning`).
        **settings: Model arguments (see `zoo.spec(name).defaults`) and training settings
            (see `training_defaults(model, data)`).

    Returns:
        The run directory. Multi-worker: the chief evaluates and writes the results; the other
        workers train with it, then wait until it has finished.
    """
    spec = as_spec(model)  # resolved once, handed on
    name = spec.name
    task: Task = get_task(spec.task)
    data = data or spec.default_data
    held_out = {"validation_data": validation_data, "test_data": test_data}
    held_out = {k: v for k, v in held_out.items() if v is not None}  # recorded only if given
    model_args, training = resolve_settings(spec, data, settings)
    if training["freeze"] and init_from is None:
        raise ValueError(
            "`freeze` keeps layers as a source run trained them: give that run with "
            "--init-from RUN (init_from=...), or drop the setting."
        )
    if init_from is not None:
        source = fine_tuning.source_run(init_from, spec)
        model_args, training = fine_tuning.fine_tuning_settings(source, spec, settings)
        training["init_from"] = str(Path(init_from).resolve())  # recorded in the run's config
    if distribution == "multi-worker" and run_dir is None:
        raise ValueError(
            "Multi-worker training needs --run-dir: one directory every worker reaches (shared "
            "storage), where the chief writes the run and every worker finds the resume state."
        )
    # Before the data: devices and the cluster are fixed once the backend runs an operation.
    cluster = distribute.configure(distribution, devices)
    cluster.check_batch_size(training["batch_size"])
    if cluster.mode is not None:
        print(f"Distributed training, {cluster.describe()}")
    config = {
        "model": name,
        "task": spec.task,
        "data": data_reference(data),
        **{k: data_reference(v) for k, v in held_out.items()},
        "model_args": model_args,
        "training": training,
        "zoo_version": _version(),
    }
    # Bad data fails before anything is written.
    corpus = task.load_data(str(data), training, validation_data, test_data)
    from_data = task.settings_from_data(corpus)
    if from_data:
        training.update(from_data)  # `config` holds `training`: the run records them
        print("From the data: " + ", ".join(f"{k}={v}" for k, v in from_data.items()))
    if not cluster.is_chief:
        return _train_as_worker(task, spec, model_args, training, corpus, Path(run_dir), cluster,
                                callbacks, verbose)  # fmt: skip
    with claim_run(name, config, runs_root, run_dir, resume) as run:
        keras.utils.set_random_seed(training["seed"])
        pipeline = _pipeline(task, run, corpus, training)
        model_file = run / "model.keras"
        model = None
        trained_here = not model_file.is_file()
        if trained_here:
            trained = _train_model(task, spec, model_args, training, pipeline, corpus, run,
                                   callbacks, verbose, cluster)  # fmt: skip
            if (run / HISTORY).is_file():
                plots.learning_curves(run / HISTORY, run / "learning_curves.png")
            # Evaluation runs on one device: a model trained on replicas is reloaded without them.
            model = trained if cluster.mode is None else None
        else:  # trained before an interruption: only the evaluation is left
            print(f"{run} finished training; evaluating it")
        if model is None:
            model = keras.saving.load_model(model_file, compile=False)

        metrics = task.evaluate(run, model, pipeline, corpus, training)
        images_to_tensorboard(sorted((run / "attention").glob("*.png")), run / TENSORBOARD)
        metrics.update(
            {"model": name, "data": config["data"], "epochs_trained": epochs_trained(run)}
        )
        # Speed and numerics differ by backend; a resumed run names the one that finished it.
        metrics["keras_backend"] = keras.backend.backend()
        if cluster.mode is not None:
            metrics["distribution"] = {"mode": cluster.mode, "replicas": cluster.replicas}
        examples = task.examples(corpus)[:EXAMPLES_KEPT]
        write_atomically(run / "examples.json", json.dumps(examples, ensure_ascii=False, indent=2))
        # Written last: its presence marks the run as finished.
        write_atomically(run / "metrics.json", json.dumps(metrics, indent=2, ensure_ascii=False))
    if trained_here:
        cluster.barrier()  # the other workers, waiting since training, end with the run
    return run


def images_to_tensorboard(pngs: Sequence[Path], log_dir: Path) -> None:
    """The run's attention maps as TensorBoard images (`attention/<name>`)."""
    if not pngs:
        return
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(log_dir / "attention"))
    with writer.as_default():
        for png in pngs:
            image = tf.io.decode_png(png.read_bytes(), channels=4)[None]
            tf.summary.image(png.stem, image, step=0)
    writer.close()


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the run is marked failed, not finished."""


class DivergenceMonitor(keras.callbacks.Callback):
    """Stops training at the first non-finite loss and remembers where it happened."""

    def __init__(self):
        super().__init__()
        self.diverged_at: tuple[int, int] | None = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self.epoch + 1, batch + 1)
            self.model.stop_training = True


def _train_model(
    task: Task,
    spec: ModelSpec,
    model_args: dict,
    training: dict,
    pipeline: Any,
    corpus: Any,
    run: Path,
    callbacks: Sequence[keras.callbacks.Callback],
    verbose: int | str,
    cluster: distribute.Distribution,
    restore_from: Path | None = None,
) -> keras.Model:
    """Builds, fits and saves (`run/model.keras`) the model on the replicas of `cluster`."""
    with cluster.scope():
        if training.get("init_from"):  # the source's weights, compiled for this run
            model = fine_tuning.load_source_model(training["init_from"])
            fine_tuning.freeze(model, training.get("freeze", []))
            task.compile(model, training)
        else:
            model = build_compiled(spec, model_args, training, pipeline)
        _fit(task, model, pipeline, corpus, training, run, callbacks, verbose, cluster,
             restore_from)  # fmt: skip
    save_atomically(run / "model.keras", model.save)
    return model


def _train_as_worker(
    task: Task,
    spec: ModelSpec,
    model_args: dict,
    training: dict,
    corpus: Any,
    run: Path,
    cluster: distribute.Distribution,
    callbacks: Sequence[keras.callbacks.Callback],
    verbose: int | str,
) -> Path:
    """A non-chief worker's part of multi-worker training.

    It runs every step the chief runs, saves included (collective operations must match), but
    into a scratch directory of its own; it resumes from the chief's backup in `run`. Its
    pipeline is fitted in memory (deterministic, so the chief's equals it).
    """
    if (run / "model.keras").is_file():
        print(f"{run} finished training; the chief evaluates it.")
        return run
    keras.utils.set_random_seed(training["seed"])
    pipeline = task.fit_pipeline(corpus, training)
    with tempfile.TemporaryDirectory(prefix=f"zoo-worker{cluster.worker}-") as scratch:
        _train_model(task, spec, model_args, training, pipeline, corpus, Path(scratch),
                     callbacks, verbose, cluster, restore_from=run)  # fmt: skip
    print(f"Worker {cluster.worker} done training; waiting for the chief's evaluation.")
    cluster.barrier()
    print(f"The run is finished: {run}")
    return run


def _fit(
    task, model, pipeline, corpus, training, run, callbacks, verbose, cluster, restore_from=None
) -> None:
    """`model.fit` with resume (BackupAndRestore), best checkpoint, early stopping, history.

    `restore_from`: the run whose resume state to start from, when `run` is a non-chief
    worker's scratch directory.
    """
    train_data, validation_data = task.datasets(pipeline, corpus, training)
    train_data, validation_data = cluster.prepare(train_data), cluster.prepare(validation_data)
    if not training.get("init_from"):  # fine-tuned weights are kept as they are
        task.initialize(model, pipeline, corpus, training)
    checkpoints = run / "checkpoints"
    backup = checkpoints / "backup"
    best_weights = checkpoints / "best.weights.h5"
    history_csv = run / HISTORY
    if restore_from is None:
        check_backup(backup, history_csv)
        if not backup.exists():  # starting from epoch 1: earlier rows belong to no saved state
            history_csv.unlink(missing_ok=True)
            best_weights.unlink(missing_ok=True)
    cluster.barrier()  # workers copy the chief's backup only once the chief has checked it
    if restore_from is not None and (restore_from / "checkpoints" / "backup").is_dir():
        shutil.copytree(restore_from / "checkpoints" / "backup", backup)
    monitor, mode = task.monitor
    divergence = DivergenceMonitor()
    fit_callbacks = [
        # Two generations of the resume state: a weights file cut short by a kill falls back
        # to the one before it.
        keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True),
        keras.callbacks.ModelCheckpoint(
            str(best_weights),
            monitor=monitor,
            mode=mode,
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=best_so_far(history_csv, monitor, mode),
        ),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=training["patience"]),
        # Before the logger: the scheduler adds the epoch's learning rate to the logs.
        *learning_rate_callbacks(training, training["epochs"]),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
        # `tensorboard --logdir runs/`: loss, metrics and learning rate by epoch.
        keras.callbacks.TensorBoard(str(run / TENSORBOARD), write_graph=False),
        # In a file or a pipe, where Keras prints a line per epoch only.
        *([ProgressLines()] if verbose == "auto" and not sys.stdout.isatty() else []),
        *callbacks,
        divergence,  # last: it sees the logs every other callback saw
    ]
    with cluster.lost_workers_named(restore_from or run):
        model.fit(
            train_data,
            validation_data=validation_data,
            epochs=training["epochs"],
            shuffle=False,  # the dataset shuffles itself
            callbacks=fit_callbacks,
            verbose=progress_verbosity(verbose),
        )
    if divergence.diverged_at is not None:
        epoch, batch = divergence.diverged_at
        reason = (
            f"the loss became NaN or infinite at epoch {epoch}, batch {batch} (learning rate "
            f"{training['learning_rate']}); lower the learning rate or check the data"
        )
        if restore_from is None:
            write_atomically(run / FAILED, json.dumps({"reason": reason}, indent=2))
        raise TrainingDivergedError(
            f"Training diverged: {reason}. The run {restore_from or run} is marked failed and "
            "cannot be exported; train again with other settings."
        )
    if best_weights.is_file():
        model.load_weights(best_weights)


def progress_verbosity(verbose: int | str) -> int | str:
    """Keras' progress bar on a terminal; one line per epoch in logs and pipes."""
    if verbose == "auto" and not sys.stdout.isatty():
        return 2
    return verbose


def _pipeline(task: Task, run: Path, corpus: Any, training: dict) -> Any:
    """The run's saved pipeline; refitted (deterministically) if missing or half-written."""
    try:
        return task.load_pipeline(run)
    except (OSError, ValueError, KeyError):
        if training.get("init_from"):  # fine-tuning reads the data as its source did
            pipeline = task.load_pipeline(Path(training["init_from"]))
        else:
            pipeline = task.fit_pipeline(corpus, training)
        pipeline.save(run)
        return pipeline


def _version() -> str:
    from zoo.version import __version__

    return __version__


__all__ = ["COMMON_SETTINGS", "load_hparams", "resolve_settings", "train", "training_defaults"]
