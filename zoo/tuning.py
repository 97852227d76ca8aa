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
import shutil
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from zoo import distribute, search_space
from zoo.catalog import ModelSpec, as_spec
from zoo.distribute.search import parse_address, tuning_role, wait_for_chief
from zoo.runs import write_atomically
from zoo.schedules import learning_rate_callbacks
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


def save_oracle_atomically(oracle: kt.Oracle) -> None:
    """Makes `oracle` write `oracle.json` to a temporary file and rename it into place.

    keras-tuner writes the file in place: a kill while it writes leaves it empty or cut
    short, and the search can never be reloaded. A rename is atomic: a reader sees either
    the last state or the new one.
    """
    path = Path(oracle._get_oracle_fname())
    oracle.save = lambda: write_atomically(path, json.dumps(oracle.get_state()))


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
        **fixed: Settings not to search, e.g. `units=64`.
    """
    if chief and worker:
        raise ValueError("Pass either `chief` or `worker`, not both.")
    for arg, value in (("max_trials", max_trials), ("epochs_per_trial", epochs_per_trial)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{arg}` must be an integer >= 1, received {value!r}.")
    spec = as_spec(model)  # resolved once, handed on
    name = spec.name
    data = data or spec.default_data
    if fixed.get("time_budget"):
        raise ValueError(
            "A search has no time budget (it would cut each trial short): bound it with "
            "--max-trials and --epochs-per-trial."
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


SEARCH_FILE = "search.json"


def repair_search(project: Path, tuner_id: str = "tuner0") -> list[str]:
    """Drops the trials whose `trial.json` a kill cut short, so the search reloads; a damaged
    `oracle.json` (see `save_oracle_atomically`) is named with the command that starts over.

    keras-tuner writes `trial.json` in place; a kill while it writes leaves a truncated file
    that fails every later reload. Such a trial was running, not finished: its folder is
    removed and its id struck from `oracle.json`, and the search runs it again. A kill just
    after keras-tuner saved a finished trial (before it struck the trial from the ongoing ones,
    and before it wrote the tuner's file) would have it run that trial again, or start the
    whole search over: both are mended here too.

    Returns:
        The ids of the trials dropped.
    """
    oracle_file = project / "oracle.json"
    state = None
    if oracle_file.is_file():
        try:
            state = json.loads(oracle_file.read_text())
        except (OSError, ValueError):  # saved in place, by a search from before the fix
            raise ValueError(
                f"The search state {oracle_file} is empty or cut short (a search killed while "
                "saving it); the finished trials cannot be reloaded without it. Start the "
                "search over with --overwrite (or use another --dir)."
            ) from None
    if state is not None:
        _forget_ended_trials(oracle_file, state)
        # keras-tuner reloads a search only if the tuner's own file (`{}`: it keeps no state)
        # exists, and saves it after the oracle: a kill in between made it start over and
        # overwrite the finished trials.
        tuner_file = project / f"{tuner_id}.json"
        if not tuner_file.exists():
            write_atomically(tuner_file, "{}")
    damaged = []
    for path in sorted(project.glob("trial_*/trial.json")):
        try:
            json.loads(path.read_text())
        except (OSError, ValueError):
            damaged.append(path.parent)
    if not damaged:
        return []
    if state is None:
        raise ValueError(
            f"The search state {oracle_file} is missing; start the search over with --overwrite."
        )
    dropped = []
    for folder in damaged:
        trial_id = folder.name.removeprefix("trial_")
        state["ongoing_trials"] = {
            tuner: trial for tuner, trial in state["ongoing_trials"].items() if trial != trial_id
        }
        for key in ("start_order", "end_order", "retry_queue"):
            state[key] = [trial for trial in state.get(key, []) if trial != trial_id]
        state.get("run_times", {}).pop(trial_id, None)
        values_hash = state.get("id_to_hash", {}).pop(trial_id, None)
        state["tried_so_far"] = [h for h in state["tried_so_far"] if h != values_hash]
        shutil.rmtree(folder)
        dropped.append(trial_id)
    write_atomically(oracle_file, json.dumps(state))
    print(f"Trial(s) {dropped} were cut short while being saved; they run again.")
    return dropped


def _forget_ended_trials(oracle_file: Path, state: dict[str, Any]) -> None:
    """A trial keras-tuner ended and saved but had not yet struck from its ongoing trials when
    the search was killed (it saves first) would be run again on reload, overwriting its
    record: struck here, as keras-tuner would have."""
    ended = set(state.get("end_order", []))
    ongoing = state.get("ongoing_trials", {})
    still = {tuner: trial for tuner, trial in ongoing.items() if trial not in ended}
    if still != ongoing:
        state["ongoing_trials"] = still
        write_atomically(oracle_file, json.dumps(state))


def remember_search(
    directory: Path, name: str, data: str, fixed: dict[str, Any], overwrite: bool
) -> None:
    """Records what a search directory searches; continuing it with other settings raises."""
    path = directory / SEARCH_FILE
    wanted = {"model": name, "data": data, "fixed": fixed}
    if path.is_file() and not overwrite:
        try:
            started = json.loads(path.read_text())
        except json.JSONDecodeError:
            started = None
        if started != wanted:
            raise ValueError(
                f"The search in {directory} was started with {json.dumps(started)}, not "
                f"{json.dumps(wanted)}; continuing it would mix trials of different settings. "
                "Rerun with the same --data and --set, or pass --overwrite to start it over "
                "(or --dir for a new search)."
            )
        return
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(wanted, indent=2))
