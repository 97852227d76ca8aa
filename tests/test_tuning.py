import importlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras_tuner as kt
import pytest
from helpers import run_until_line

import zoo
import zoo.schedules
from zoo import registry
from zoo.search_space import Choice
from zoo.settings import resolve_settings
from zoo.tasks import get_task, task_examples
from zoo.training import train
from zoo.tuning import ZooHyperModel, make_tuner, tune

Budget = zoo.schedules.TimeBudget
TINY = {"units": 16, "embedding_dim": 8, "token_level": "char", "batch_size": 32}


def data_settings(name, data):
    """The settings the task's example file needs (the forecasting CSV names its target)."""
    return dict(task_examples(zoo.spec(name).task).DATA_SETTINGS)


def hypermodel(name, data, **fixed):
    fixed = {**data_settings(name, data), **fixed}
    _, training = resolve_settings(name, str(data), fixed)
    task = get_task(zoo.spec(name).task)
    corpus = task.load_data(str(data), training)
    return ZooHyperModel(name, corpus, task.fit_pipeline(corpus, training), fixed)


def trial_records(directory, name):
    records = []
    for path in sorted((Path(directory) / name).glob("trial_*/trial.json")):
        try:
            records.append(json.loads(path.read_text()))
        except json.JSONDecodeError:  # keras-tuner is still writing it: not a record yet
            continue
    return records


@pytest.mark.parametrize("name", zoo.list_models())
def test_empty_hyperparameters_give_the_default_model(name, task_data):
    spec = zoo.spec(name)
    assert spec.search_space, f"{name} declares no search space"
    data = task_data[spec.task]
    hm = hypermodel(name, data)
    fixed = data_settings(name, data)
    _, training_defaults = resolve_settings(name, str(data), fixed)
    for key, value in hm.settings(kt.HyperParameters()).items():
        expected = spec.defaults[key] if key in spec.defaults else training_defaults[key]
        assert value == expected, key
    sizes = hm.task.model_sizes(hm.pipeline)
    tuned = hm.build(kt.HyperParameters())
    by_registry = zoo.get(name, **sizes)
    # The decorated builder, as a user imports it: `from zoo.models.seq2seq import lstm_nmt`.
    decorated = getattr(importlib.import_module(spec.builder.__module__), spec.builder.__name__)
    by_builder = decorated(**sizes)
    for model in (by_registry, by_builder):
        assert model.get_config() == tuned.get_config()
        assert model.count_params() == tuned.count_params()


@pytest.mark.parametrize("name", zoo.list_models())
def test_random_points_of_the_space_build(name, task_data):
    hm = hypermodel(name, task_data[zoo.spec(name).task])
    probe = kt.HyperParameters()
    hm.settings(probe)
    for seed in range(3):
        hp = kt.HyperParameters()
        for parameter in probe.space:
            hp.values[parameter.name] = parameter.random_sample(seed)
        model = hm.build(hp)
        assert model.optimizer is not None


@pytest.mark.slow(seconds=85)  # the default run stays short
def test_tune_writes_best_hparams_that_train_accepts(dates_tsv, tmp_path):
    best = tune(
        "lstm_luong_nmt",
        str(dates_tsv),
        max_trials=2,
        epochs_per_trial=1,
        directory=tmp_path / "search",
        verbose=0,
        **TINY,
    )
    chosen = json.loads(best.read_text())
    assert chosen["model"] == "lstm_luong_nmt" and chosen["objective"] == "val_token_accuracy"
    values = chosen["hyperparameters"]
    assert values["units"] == 16 and values["attention_score"] in ("dot", "general", "concat")
    assert len(trial_records(tmp_path / "search", "lstm_luong_nmt")) == 2
    run = train(
        "lstm_luong_nmt",
        str(dates_tsv),
        runs_root=tmp_path / "runs",
        epochs=1,
        verbose=0,
        beam_size=1,
        **{k: v for k, v in values.items()},
    )
    config = json.loads((run / "config.json").read_text())
    assert config["model_args"]["attention_score"] == values["attention_score"]
    assert config["training"]["learning_rate"] == values["learning_rate"]


def test_a_search_with_a_time_budget_shares_it_and_starts_no_trial_after_it(
    dates_tsv, tmp_path, monkeypatch, capsys
):
    import itertools

    import zoo.schedules

    seconds = itertools.count()  # a scripted clock: each reading is one second after the last
    monkeypatch.setattr(zoo.schedules, "clock", lambda: next(seconds))
    shares = []
    monkeypatch.setattr(
        zoo.schedules, "TimeBudget", lambda s, schedule: shares.append(s) or Budget(s, schedule)
    )
    best = tune("lstm_nmt", str(dates_tsv), max_trials=4, epochs_per_trial=3,
                directory=tmp_path, verbose=0, time_budget=24, **TINY)  # fmt: skip
    out = capsys.readouterr().out
    records = trial_records(tmp_path, "lstm_nmt")
    # A trial of 3 whole epochs takes ~80 readings: without the budget 4 would run.
    assert 2 <= len(records) < 4 and all(r["status"] == "COMPLETED" for r in records)
    assert f"Time budget of 24 s spent: no new trial ({len(records)} scored)." in out
    # The first trial may train 24 s over 4 trials; each later one its share of what is left.
    assert len(shares) == len(records) and 5 < shares[0] <= 6
    assert all(later < earlier * 1.2 for earlier, later in itertools.pairwise(shares))
    assert json.loads(best.read_text())["hyperparameters"]["units"] == 16
    assert "time_budget" not in json.loads((tmp_path / "search.json").read_text())["fixed"]
    with pytest.raises(ValueError, match="time budget must be a number of seconds > 0"):
        tune("lstm_nmt", str(dates_tsv), directory=tmp_path, time_budget="1h", **TINY)


@pytest.mark.slow(seconds=45)  # the default run stays short
def test_a_trial_file_cut_short_by_a_kill_is_run_again(dates_tsv, tmp_path, capsys):
    search = {"max_trials": 2, "epochs_per_trial": 1, "directory": tmp_path, "verbose": 0}
    tune("lstm_nmt", str(dates_tsv), **search, **TINY)
    project = tmp_path / "lstm_nmt"
    damaged = sorted(project.glob("trial_*/trial.json"))[-1]
    text = damaged.read_text()
    damaged.write_text(text[: len(text) // 2])  # keras-tuner was writing it when killed
    best = tune("lstm_nmt", str(dates_tsv), **search, **TINY)
    assert "cut short while being saved" in capsys.readouterr().out
    records = trial_records(tmp_path, "lstm_nmt")
    assert len(records) == 2 and all(r["status"] == "COMPLETED" for r in records)
    assert json.loads(best.read_text())["hyperparameters"]["units"] == 16


def test_a_damaged_search_state_is_named_with_the_fix(dates_tsv, tmp_path):
    search = {"max_trials": 1, "epochs_per_trial": 1, "directory": tmp_path, "verbose": 0}
    tune("lstm_nmt", str(dates_tsv), **search, **TINY)
    (tmp_path / "lstm_nmt" / "oracle.json").write_text("")  # killed while saved in place
    with pytest.raises(ValueError, match=r"oracle\.json is empty or cut short.*--overwrite"):
        tune("lstm_nmt", str(dates_tsv), **search, **TINY)


def test_the_search_state_is_replaced_whole_or_not_at_all(dates_tsv, tmp_path, monkeypatch):
    """A save stopped before its rename (as by a kill) leaves the previous state intact."""
    model = hypermodel("lstm_nmt", dates_tsv, **TINY)
    search = make_tuner(model, max_trials=1, epochs_per_trial=1, directory=tmp_path)
    oracle_file = tmp_path / "lstm_nmt" / "oracle.json"
    search.oracle.save()
    before = oracle_file.read_text()
    search.oracle.end_order.append("a new trial")  # a state that differs

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        search.oracle.save()
    assert oracle_file.read_text() == before
    json.loads(before)


def test_bad_requests(dates_tsv, tmp_path):
    with pytest.raises(ValueError, match=r"Unknown hyperparameter.*'unitz'"):
        tune("lstm_nmt", str(dates_tsv), directory=tmp_path, unitz=3)
    with pytest.raises(ValueError, match="tuner"):
        tune("lstm_nmt", str(dates_tsv), directory=tmp_path, tuner="grid", **TINY)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OSError, match="Cannot serve the tuning oracle"):
            tune("lstm_nmt", str(dates_tsv), directory=tmp_path, chief=f"127.0.0.1:{port}", **TINY)


def test_a_space_that_cannot_build_is_a_clear_error(dates_tsv, tmp_path, monkeypatch):
    spec = zoo.spec("lstm_nmt")
    broken = registry.ModelSpec(
        **{
            **spec.__dict__,
            "name": "broken_nmt",
            "defaults": {**spec.defaults, "units": -1},
            "search_space": {"units": Choice([-1, 8])},
        }
    )
    monkeypatch.setitem(registry._REGISTRY, "broken_nmt", broken)
    with pytest.raises(ValueError, match=r"search space of 'broken_nmt' cannot build.*units=-1"):
        tune("broken_nmt", str(dates_tsv), directory=tmp_path, max_trials=3, verbose=0)


def zoo_tune(*args):
    return [sys.executable, "-m", "zoo.cli", "tune", *args]


@pytest.mark.slow(seconds=70)  # the default run stays short
def test_killed_search_continues_without_rerunning_trials(dates_tsv, tmp_path):
    command = zoo_tune(
        "lstm_nmt", "--data", str(dates_tsv), "--max-trials", "3", "--epochs-per-trial", "2",
        "--dir", str(tmp_path), "--set", "units=16", "--set", "embedding_dim=8",
        "--set", "token_level=char",
    )  # fmt: skip
    # keras-tuner prints "Trial 1 Complete" after it saved the trial: killed in the next one.
    first = run_until_line(command, "Trial 1 Complete")
    first.kill()
    first.wait()
    completed = {
        r["trial_id"]: r for r in trial_records(tmp_path, "lstm_nmt") if r["status"] == "COMPLETED"
    }
    assert completed
    subprocess.run(command, check=True, timeout=400, capture_output=True)
    records = {r["trial_id"]: r for r in trial_records(tmp_path, "lstm_nmt")}
    assert sum(r["status"] == "COMPLETED" for r in records.values()) == 3
    for trial_id, before in completed.items():
        assert records[trial_id] == before  # finished trials were not run again
    assert (tmp_path / "best_hparams.json").is_file()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow(seconds=70)  # the default run stays short
def test_distributed_search_with_a_chief_and_two_workers(dates_tsv, tmp_path):
    address = f"127.0.0.1:{free_port()}"
    common = [
        "lstm_nmt", "--data", str(dates_tsv), "--max-trials", "3", "--epochs-per-trial", "1",
        "--dir", str(tmp_path), "--set", "units=16", "--set", "embedding_dim=8",
        "--set", "token_level=char",
    ]  # fmt: skip
    chief = subprocess.Popen(
        zoo_tune(*common, "--chief", address), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    # No sleep: each worker waits until the chief accepts connections (--connect-timeout).
    workers = [
        subprocess.Popen(
            zoo_tune(*common, "--worker", address, "--worker-id", f"worker{i}"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    try:
        for process in [*workers, chief]:
            process.wait(timeout=300)
    finally:
        for process in [*workers, chief]:
            process.kill()
    output = chief.stdout.read().decode()
    assert chief.returncode == 0, output[-3000:]
    assert all(w.returncode == 0 for w in workers)
    records = trial_records(tmp_path, "lstm_nmt")
    ids = [r["trial_id"] for r in records]
    assert len(ids) == len(set(ids)) == 3
    assert all(r["status"] == "COMPLETED" for r in records)
    assert (tmp_path / "best_hparams.json").is_file() and "Leaderboard" in output


@pytest.mark.slow(seconds=400)
def test_tuning_luong_on_dates_then_training_it(tmp_path):
    subprocess.run(
        zoo_tune(
            "lstm_luong_nmt",
            "--data",
            "dates",
            "--max-trials",
            "2",
            "--epochs-per-trial",
            "1",
            "--dir",
            str(tmp_path / "search"),
        ),  # fmt: skip
        check=True,
        timeout=1800,
    )
    best = tmp_path / "search" / "best_hparams.json"
    subprocess.run(
        [sys.executable, "-m", "zoo.cli", "train", "lstm_luong_nmt", "--hparams", str(best),
         "--epochs", "1", "--runs-root", str(tmp_path / "runs"),
         "--set", "beam_size=1", "--set", "attention_examples=0"],  # a quicker test
        check=True,
        timeout=1800,
    )  # fmt: skip
    (run,) = (tmp_path / "runs" / "lstm_luong_nmt").iterdir()
    chosen = json.loads(best.read_text())["hyperparameters"]
    config = json.loads((run / "config.json").read_text())
    assert config["model_args"]["units"] == chosen["units"]


def test_a_search_refuses_to_continue_with_other_settings(tmp_path):
    from zoo.search_state import remember_search

    remember_search(tmp_path, "lstm_nmt", "dates", {"units": 16}, overwrite=False)
    remember_search(tmp_path, "lstm_nmt", "dates", {"units": 16}, overwrite=False)  # same: fine
    with pytest.raises(ValueError, match=r"was started with .*units.*16.*--overwrite"):
        remember_search(tmp_path, "lstm_nmt", "dates", {"units": 8}, overwrite=False)
    remember_search(tmp_path, "lstm_nmt", "dates", {"units": 8}, overwrite=True)  # starts over
    remember_search(tmp_path, "lstm_nmt", "dates", {"units": 8}, overwrite=False)


def test_trial_counts_must_be_positive(dates_tsv, tmp_path):
    for bad in ({"max_trials": 0}, {"epochs_per_trial": 0}):
        with pytest.raises(ValueError, match="must be an integer >= 1"):
            tune("lstm_nmt", str(dates_tsv), directory=tmp_path, **bad)


def test_a_worker_without_its_chief_fails_in_bounded_time(dates_tsv, tmp_path):
    with pytest.raises(ConnectionError, match="No tuning chief answers at 127.0.0.1"):
        tune("lstm_nmt", str(dates_tsv), directory=tmp_path, worker=f"127.0.0.1:{free_port()}",
             connect_timeout=2, **TINY)  # fmt: skip


def test_a_trial_starts_from_the_output_bias_it_was_given(dates_tsv):
    import keras
    import numpy as np

    class BiasAtStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bias = keras.ops.convert_to_numpy(self.model.output_projection.bias)

    hm = hypermodel("lstm_nmt", dates_tsv, output_bias="unigram", **TINY)
    hp = kt.HyperParameters()
    seen = BiasAtStart()
    hm.fit(hp, hm.build(hp), epochs=1, verbose=0, callbacks=[seen])
    counts = hm.pipeline.target_counts([target for _, target in hm.corpus.train]) + 1
    np.testing.assert_allclose(seen.bias, np.log(counts / counts.sum()), rtol=1e-5)
