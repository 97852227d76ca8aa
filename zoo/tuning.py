"""Hyperparameter search with keras-tuner, on one machine or distributed.

`ZooHyperModel(name, data)` builds and trains a registered model from its spec's search space
(`ModelSpec.search_space`); with an empty `keras_tuner.HyperParameters()` it builds exactly
the spec's default model. `tune(...)` runs a random, Bayesian or Hyperband search whose state
lives in a directory, so running it again continues the search instead of starting over, and
writes `best_hparams.json`, which `zoo train NAME --hparams best_hparams.json` accepts.

Distributed search uses keras-tuner's own chief / worker mode: the chief (`chief="HOST:PORT"`)
serves the oracle, each worker (`worker="HOST:PORT"`) asks it for trials and reports back;
the networking is in `zoo.distribute.search`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from zoo import distribute, schedules, search_space
from zoo.catalog import ModelSpec, as_spec
from zoo.distribute.search import parse_address, tuning_role, wait_for_chief
from zoo.schedules import learning_rate_callbacks
from zoo.search_state import remember_search, repair_search, save_oracle_atomically
from zoo.tasks import get_task
from zoo.training import (
    build_compiled,
    progress_verbosity,
    resolve_settings,
)

TUNERS = ("random", "bayesian", "hyperband")
BEST_HPARAMS = "best_hparams.json"


class ZooHyperModel(kt.HyperModel):
    """A registered model as a keras-tuner `HyperModel`.

    Args:
        model: A registered model name, or its `ModelSpec`.
        corpus: The data to train and validate on (as the task loads it).
        pipeline: The task's text pipeline (vocabularies, labels) fitted on `corpus.train`.
        fixed: Settings that are not searched (model arguments or training settings).
        cluster: The devices each trial trains on (one by default); see `zoo.distribute`.
    """

    def __init__(
        self,
        model: ModelSpec | str,
        corpus: Any,
        pipeline: Any,
        fixed: dict[str, Any] | None = None,
        cluster: distribute.Distribution | None = None,
    ):
        self.spec = as_spec(model)
        super().__init__(name=self.spec.name, tunable=True)
        self.cluster = cluster or distribute.Distribution()
        if not self.spec.search_space:
            raise ValueError(f"Model {self.spec.name!r} declares no search space.")
        self.task = get_task(self.spec.task)
        self.corpus = corpus
        self.pipeline = pipeline
        self.fixed = dict(fixed or {})
        # Seconds a trial starting now may train (set by `tune` for a search with a time
        # budget; `None`: each trial trains its epochs).
        self.trial_budget: Callable[[], float] | None = None
        model_args, training = resolve_settings(self.spec, corpus.name, {})
        # The default point of the search: the entry's own defaults, as `zoo train` uses them.
        self.defaults = {**self.spec.defaults, **model_args, **training}
        search_space.check_space(self.spec.search_space, self.defaults, self.spec.name)

    def settings(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """Every setting of a trial: the search space's draws, then the fixed ones."""
        drawn = search_space.draw(hp, self.spec.search_space, self.defaults)
        return {**drawn, **self.fixed}

    def fixed_hyperparameters(self) -> kt.HyperParameters:
        """The fixed settings that the search space would otherwise draw, as `hp.Fixed`."""
        hp = kt.HyperParameters()
        for key, value in self.fixed.items():
            if key in self.spec.search_space:
                hp.Fixed(key, value)
        return hp

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        model_args, training = resolve_settings(self.spec, self.corpus.name, self.settings(hp))
        # Entered per trial: keras-tuner clears the Keras session (and any scope) between them.
        with self.cluster.scope():
            return build_compiled(self.spec, model_args, training, self.pipeline)

    def fit(self, hp: kt.HyperParameters, model: keras.Model, *args, **kwargs):
        _, training = resolve_settings(self.spec, self.corpus.name, self.settings(hp))
        datasets = self.task.datasets(self.pipeline, self.corpus, training)
        train_data, validation_data = map(self.cluster.prepare, datasets)
        kwargs["verbose"] = progress_verbosity(kwargs.get("verbose", "auto"))
        epochs = kwargs.get("epochs", training["epochs"])  # a trial's budget, not the run's
        if self.trial_budget is not None:
            training["time_budget"] = self.trial_budget()
        kwargs["callbacks"] = [
            *kwargs.get("callbacks", []),
            *learning_rate_callbacks(training, epochs),
        ]
        with self.cluster.scope():
            self.task.initialize(model, self.pipeline, self.corpus, training)
            return model.fit(train_data, validation_data=validation_data, shuffle=False, **kwargs)


def make_tuner(
    hypermodel: ZooHyperModel,
    tuner: str = "random",
    max_trials: int = 10,
    epochs_per_trial: int = 3,
    directory: str | Path = "runs/tune",
    overwrite: bool = False,
    seed: int = 0,
) -> kt.Tuner:
    """A keras-tuner `Tuner` whose state lives in `directory` (reloaded unless `overwrite`)."""
    if tuner not in TUNERS:
        raise ValueError(f"`tuner` must be one of {TUNERS}, received tuner={tuner!r}.")
    common = {
        "hypermodel": hypermodel,
        "hyperparameters": hypermodel.fixed_hyperparameters(),
        "tune_new_entries": True,
        "objective": kt.Objective(*hypermodel.task.objective),
        "directory": str(directory),
        "project_name": hypermodel.spec.name,
        "overwrite": overwrite,
        "seed": seed,
        "max_consecutive_failed_trials": 3,
    }
    if tuner == "hyperband":
        search = kt.Hyperband(max_epochs=epochs_per_trial, factor=3, **common)
    else:
        cls = kt.RandomSearch if tuner == "random" else kt.BayesianOptimization
        search = cls(max_trials=max_trials, **common)
    if isinstance(search.oracle, kt.Oracle):  # a worker's oracle is the chief's, remote
        save_oracle_atomically(search.oracle)
    return search


def tune(
    model: ModelSpec | str,
    data: str | None = None,
    validation_data: str | None = None,
    *,
    tuner: str = "random",
    max_trials: int = 10,
    epochs_per_trial: int = 3,
    directory: str | Path | None = None,
    overwrite: bool = False,
    chief: str | None = None,
    worker: str | None = None,
    worker_id: str | None = None,
    connect_timeout: float = 120.0,
    verbose: int | str = "auto",
    distribution: str | None = None,
    devices: int | str | None = None,
    **fixed: Any,
) -> Path | None:
    """Searches a registered model's space on `data`; returns the `best_hparams.json` path
    (chief or local search; a worker returns `None`).

    Args:
        model: A registered model name, or its `ModelSpec`.
        data: Dataset name or data file (default: the model's default dataset).
        validation_data: The user's own validation file, which every trial is scored on
            (translation and classification; default: a set cut from `data`).
        tuner: `"random"`, `"bayesian"` or `"hyperband"`.
        max_trials: Trials to run (random / Bayesian).
        epochs_per_trial: Epochs of each trial (Hyperband's maximum).
        directory: Where the search state goes (default: `runs/tune/NAME`).
        overwrite: Start over instead of continuing the search found in `directory`.
        chief: `HOST:PORT` to serve the oracle on, for distributed search.
        worker: `HOST:PORT` of the chief to take trials from.
        worker_id: A name unique among the workers (default: derived from host and pid).
        connect_timeout: Seconds a worker waits for its chief to accept connections.
        distribution: `"mirrored"` to train each trial data-parallel over this machine's
            devices (a tuning worker too); see `zoo.distribute`.
        devices: For `"mirrored"`: a number of GPUs, or `"cpu:N"` for N CPU replicas.
        **fixed: Settings not to search, e.g. `units=64`; and `time_budget` (seconds): the
            search starts no trial after it, and each trial trains for its share of the time
            left (see `keep_time_budget`).
    """
    if chief and worker:
        raise ValueError("Pass either `chief` or `worker`, not both.")
    for arg, value in (("max_trials", max_trials), ("epochs_per_trial", epochs_per_trial)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{arg}` must be an integer >= 1, received {value!r}.")
    spec = as_spec(model)  # resolved once, handed on
    name = spec.name
    data = data or spec.default_data
    # The search's budget, not a setting of its trials: a search continued with another
    # budget is the same search.
    budget = fixed.pop("time_budget", None) or 0.0
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget < 0:
        raise ValueError(
            f"The time budget must be a number of seconds > 0 (`zoo tune --time-budget 30m`), "
            f"received {budget!r}."
        )
    _, training = resolve_settings(spec, data, fixed)  # unknown keys raise before any work
    if distribution not in (None, "mirrored"):
        raise ValueError(
            f"Trials train on one machine: distribution must be 'mirrored' or None, received "
            f"{distribution!r} (several machines share a search as chief and workers)."
        )
    cluster = distribute.configure(distribution, devices)  # before the backend starts
    cluster.check_batch_size(training["batch_size"])
    if cluster.mode is not None:
        print(f"Each trial trains {cluster.describe()}")
    directory = Path(directory or Path("runs") / "tune" / name)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(
            f"--dir {directory} is a file; the search keeps its state in a folder: give a new or "
            "existing folder."
        )
    if worker:
        wait_for_chief(*parse_address(worker), timeout=connect_timeout)
    else:
        searched_on = str(data) if validation_data is None else f"{data} + {validation_data}"
        remember_search(directory, name, searched_on, fixed, overwrite)
    task = get_task(spec.task)
    corpus = task.load_data(str(data), training, validation_data)
    hypermodel = ZooHyperModel(spec, corpus, task.fit_pipeline(corpus, training), fixed, cluster)
    seed = training["seed"]
    role = "chief" if chief else "worker" if worker else None
    address = chief or worker
    if role != "worker" and not overwrite:
        repair_search(directory / name, tuner_id="chief" if role == "chief" else "tuner0")
    with tuning_role(role, address, worker_id):
        try:  # keras-tuner builds the default model here to learn the space
            search = make_tuner(
                hypermodel, tuner, max_trials, epochs_per_trial, directory, overwrite, seed
            )
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"The search space of {name!r} cannot build a model: {error}"
            ) from None
        if budget:
            keep_time_budget(search, hypermodel, budget)
        try:
            search.search(epochs=epochs_per_trial, verbose=verbose)
        except RuntimeError as error:
            raise RuntimeError(
                f"The search for {name!r} stopped: {error} Its trials failed to build or train; "
                "the traceback above names the cause (often a search space value that the "
                "model rejects)."
            ) from None
        if role == "worker":
            return None
        return write_best(search, name, str(data), directory)


def keep_time_budget(search: kt.Tuner, hypermodel: ZooHyperModel, seconds: float) -> None:
    """Ends `search` within `seconds` (counted from now): no trial starts after them, and each
    trial trains for its share of the time left (the time left over the trials left, as far as
    this process's oracle knows them), its learning-rate schedule fitted to that share.

    A trial cut short is scored like any other, on its best validation epoch. On a worker of a
    distributed search (whose oracle is the chief's) a trial's share is all the time left on
    the worker's own budget; the chief's budget decides when no trial starts.
    """
    deadline = schedules.clock() + seconds
    oracle = search.oracle
    local = isinstance(oracle, kt.Oracle)

    def trial_budget() -> float:
        left = max(deadline - schedules.clock(), 1e-3)  # a trial begun late stops at once
        if local and oracle.max_trials:  # Hyperband sets none: its trials share the rest
            left /= max(1, oracle.max_trials - len(oracle.trials) + 1)  # this one is counted
        return left

    hypermodel.trial_budget = trial_budget
    if not local:
        return
    populate_space = oracle.populate_space

    def populate_within_budget(trial_id: str) -> dict[str, Any]:
        if schedules.clock() >= deadline:
            ended = sum(trial.score is not None for trial in oracle.trials.values())
            print(f"Time budget of {seconds:.0f} s spent: no new trial ({ended} scored).")
            return {"status": "STOPPED", "values": None}  # keras-tuner's own "search over"
        return populate_space(trial_id)

    oracle.populate_space = populate_within_budget


def write_best(search: kt.Tuner, name: str, data: str, directory: Path) -> Path:
    """Prints the leaderboard and writes the best trial's settings to `best_hparams.json`."""
    trials = search.oracle.get_best_trials(num_trials=len(search.oracle.trials))
    finished = [t for t in trials if t.score is not None]
    if not finished:
        raise RuntimeError(
            f"No trial of {name!r} finished; see the errors above (a search space that "
            "cannot build, or data that cannot train)."
        )
    print(f"\nLeaderboard ({search.oracle.objective.name}, best first):")
    for rank, trial in enumerate(finished, start=1):
        values = json.dumps(trial.hyperparameters.values)
        print(f"  {rank:2d}. trial {trial.trial_id}  {trial.score:.4f}  {values}")
    best = finished[0]
    path = directory / BEST_HPARAMS
    path.write_text(
        json.dumps(
            {
                "model": name,
                "data": data,
                "objective": search.oracle.objective.name,
                "score": best.score,
                "trial_id": best.trial_id,
                "hyperparameters": search.hypermodel.settings(best.hyperparameters),
            },
            indent=2,
        )
    )
    print(f"best hyperparameters: {path}")
    return path
