"""Data-parallel training: mirrored replicas, a multi-worker cluster on loopback, bad set-ups."""

import csv
import json
import os
import re
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import zoo
from zoo import distribute
from zoo.training import train

JOBS = Path(__file__).parent / "jobs" / "distributed.py"
ROOT = Path(__file__).parent.parent
# A forecaster: no embedding, so no sparse gradients (see `test_mirrored_replicas_...`).
FORECASTER = {
    "target": "load",
    "units": 8,
    "head_units": 8,
    "lookback": 24,
    "horizon": 12,
    "batch_size": 32,
    "dropout": 0.0,
    "plot_examples": 1,
}


def run_job(*args, env=None, timeout=400):
    """Runs a job of `tests/jobs/distributed.py`; one that hangs ends itself 30 s before
    `timeout`, printing its threads' stacks (see `hung`)."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ZOO_JOB_STACKS_AFTER": str(timeout - 30),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, str(JOBS), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )


def hung(result) -> bool:
    """Whether a job ended itself hung (faulthandler's timeout dump)."""
    return result.returncode != 0 and "Timeout (" in result.stderr


def last_json(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# -- set-up errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tf_config, message",
    [
        (None, "TF_CONFIG environment variable, which is not set"),
        ("{cluster", "TF_CONFIG is not valid JSON"),
        ('{"task": {"type": "worker", "index": 0}}', 'needs a "cluster" object'),
        ('{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "worker"}}', "'ps'"),
        ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker"}}', '"host:port"'),
        ('{"cluster": {"worker": ["a:1", "b:2"]}}', 'needs "task"'),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}', 'needs "task"'),
        (
            '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
            "index 2 is not in .* 2 address",
        ),  # fmt: skip
        (
            '{"cluster": {"chief": ["a:1", "b:2"], "worker": ["c:3"]}, "task": {"type": "chief"}}',
            "more than one",
        ),  # fmt: skip
    ],
)
def test_a_malformed_tf_config_is_named(tf_config, message):
    with pytest.raises(ValueError, match=message):
        distribute.parse_tf_config(tf_config)


def test_the_chief_is_the_chief_task_or_worker_zero():
    workers = {"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}
    assert distribute.is_chief(distribute.parse_tf_config(json.dumps(workers)))
    workers["task"]["index"] = 1
    assert not distribute.is_chief(distribute.parse_tf_config(json.dumps(workers)))
    with_chief = {"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "worker"}}
    assert not distribute.is_chief(distribute.parse_tf_config(json.dumps(with_chief)))
    with_chief["task"] = {"type": "chief", "index": 0}
    assert distribute.is_chief(distribute.parse_tf_config(json.dumps(with_chief)))


@pytest.mark.parametrize(
    "devices, expected",
    [(None, ("gpu", None)), (2, ("gpu", 2)), ("3", ("gpu", 3)), ("cpu:2", ("cpu", 2))],
)
def test_devices_are_read(devices, expected):
    assert distribute.parse_devices(devices) == expected


@pytest.mark.parametrize("devices", ["cpu:0", "tpu:2", "two", "0", "cpu:"])
def test_unreadable_devices_are_named(devices):
    with pytest.raises(ValueError, match="Cannot read devices"):
        distribute.parse_devices(devices)


def test_more_gpus_than_the_machine_has_is_an_error():
    with pytest.raises(ValueError, match=r"Asked for 64 GPU\(s\), but this machine has \d+"):
        distribute.configure("mirrored", 64)


def test_a_batch_the_replicas_cannot_share_is_refused():
    with pytest.raises(ValueError, match="batch_size 30 cannot be split evenly across 4"):
        distribute.Distribution("mirrored", replicas=4).check_batch_size(30)
    distribute.Distribution("mirrored", replicas=4).check_batch_size(32)


def test_unsupported_requests_are_refused(load_csv, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown distribution 'ring'"):
        distribute.configure("ring")
    with pytest.raises(ValueError, match="needs a distribution mode"):
        distribute.configure(None, "cpu:2")
    with pytest.raises(ValueError, match="`devices` applies to --distribute mirrored"):
        distribute.configure("multi-worker", "cpu:2")
    with pytest.raises(ValueError, match="needs --run-dir"):
        train("lstm_forecaster", str(load_csv), runs_root=tmp_path, distribution="multi-worker",
              **FORECASTER)  # fmt: skip
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG environment variable"):
        train("lstm_forecaster", str(load_csv), run_dir=tmp_path / "run",
              distribution="multi-worker", **FORECASTER)  # fmt: skip
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_the_cli_names_a_bad_batch_for_the_replicas(load_csv, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "train", "lstm_forecaster", "--data", str(load_csv),
         "--set", "target=load", "--batch-size", "33", "--distribute", "mirrored",
         "--devices", "cpu:2", "--runs-root", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "batch_size 33 cannot be split evenly across 2 replicas" in result.stderr
    assert not any(tmp_path.iterdir())


# -- mirrored -----------------------------------------------------------------------------------


@pytest.mark.slow  # a fresh process per run, a few epochs each
def test_mirrored_replicas_follow_the_one_device_loss_trajectory(load_csv, tmp_path):
    """Two CPU replicas, each on half of every global batch, give the one-device trajectory.

    Both runs go through Keras' distributed input path (one replica vs two), which draws its
    shuffled batches in the same order; stride 1 leaves a short last batch of even size, which
    the replicas share evenly.

    The two sum their gradients in another order, and training grows that rounding: after one
    epoch the histories agree to about 2e-6, after two (with instance normalization dividing
    by each window's spread) to about 3e-4. Replicas that each took the whole batch (twice the
    global batch, half the steps) are 10-15 % off after one epoch.
    """
    settings = {**FORECASTER, "stride": 1, "epochs": 2}
    job = ("compare", "lstm_forecaster", str(load_csv), json.dumps(settings))
    out = tmp_path / "first"
    attempt = run_job(*job, str(out))
    if hung(attempt):
        # Once in about 25 CI runs, on a 2-core machine beside another mirrored job, the
        # two-replica fit never finished (a 17 s job, killed at 400 s; not reproduced since).
        # It is run again once, and the stacks of the hang are kept in the test's warnings.
        stacks = attempt.stderr[-6000:]
        warnings.warn(f"the mirrored job hung, rerun once; its stacks: {stacks}", stacklevel=1)
        out = tmp_path / "second"
        attempt = run_job(*job, str(out))
    result = last_json(attempt)
    one, two = result["one"], result["two"]
    assert len(one) == len(two) == 2
    for epoch, (a, b, tolerance) in enumerate(zip(one, two, (2e-5, 1e-3), strict=True), 1):
        for key in ("loss", "val_loss", "mae", "val_mae"):
            assert b[key] == pytest.approx(a[key], rel=tolerance), (epoch, key)
    (run,) = (out / "two" / "lstm_forecaster").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["distribution"] == {"mode": "mirrored", "replicas": 2}


@pytest.mark.slow  # a fresh process per run, a few epochs each
def test_jax_data_parallel_follows_the_one_device_loss_trajectory(load_csv):
    settings = {**FORECASTER, "stride": 1, "epochs": 2}
    result = last_json(
        run_job(
            "fit",
            "lstm_forecaster",
            str(load_csv),
            json.dumps(settings),
            "-",
            env={"KERAS_BACKEND": "jax"},
        )  # fmt: skip
    )
    one, two = result["one"], result["two"]
    for key in ("loss", "val_loss"):
        assert two[key] == pytest.approx(one[key], rel=2e-4), key


# -- multi-worker -------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start_workers(data, settings, run_dir, die_at=""):
    cluster = [f"127.0.0.1:{port}" for port in free_ports(2)]
    workers = []
    for index in range(2):
        tf_config = {"cluster": {"worker": cluster}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CONFIG": json.dumps(tf_config)}
        command = [sys.executable, str(JOBS), "worker", "lstm_forecaster", str(data),
                   json.dumps(settings), str(run_dir)]  # fmt: skip
        if index == 1 and die_at:
            command.append(die_at)
        workers.append(
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    return workers


def finish(workers, timeout=300):
    """Each worker's output, once it has ended; none outlives the test."""
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=timeout)[0])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    return outputs


def epochs_begun(output: str) -> list[int]:
    return [int(line.split()[-1]) for line in output.splitlines() if line.startswith("begin epoch")]


@pytest.mark.slow  # a fresh process per run, a few epochs each
def test_multi_worker_training_resumes_after_a_worker_dies(load_csv, tmp_path):
    """Two workers on loopback; worker 1 dies mid-epoch 2, both restart, nothing is lost."""
    settings = {**FORECASTER, "stride": 2, "epochs": 3, "patience": 10}
    run = tmp_path / "run"

    chief, worker = start_workers(load_csv, settings, run, die_at="2:3")
    worker_output, chief_output = finish([worker, chief])
    assert worker.returncode == -9, worker_output[-3000:]
    # The chief's collective fails with the dead worker; it says who and what to do.
    assert chief.returncode != 0
    assert re.search(r"Lost worker 1 \(127\.0\.0\.1:\d+\)", chief_output), chief_output[-3000:]
    assert "Rerun the same command on every worker: training resumes in" in chief_output
    assert epochs_begun(worker_output) == [0, 1]  # it died in the second epoch
    with open(run / "history.csv", newline="") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0"]  # the chief's first epoch
    assert not (run / "metrics.json").exists()

    outputs = finish(start_workers(load_csv, settings, run))
    for output in outputs:
        assert epochs_begun(output) == [1, 2], output[-3000:]  # from the last finished epoch
    with open(run / "history.csv", newline="") as f:
        assert [row["epoch"] for row in csv.DictReader(f)] == ["0", "1", "2"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 3
    assert metrics["distribution"] == {"mode": "multi-worker", "replicas": 2}
    assert (run / "model.keras").is_file()
    assert "waiting for the chief's evaluation" in outputs[1]


def test_a_tuning_worker_trains_its_trials_on_several_local_devices(load_csv, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "tune", "lstm_forecaster", "--data", str(load_csv),
         "--set", "target=load", "--set", "units=8", "--set", "lookback=24",
         "--set", "horizon=12", "--set", "batch_size=32", "--max-trials", "1",
         "--epochs-per-trial", "1", "--dir", str(tmp_path), "--distribute", "mirrored",
         "--devices", "cpu:2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Each trial trains mirrored: 2 replica(s)" in result.stdout
    best = json.loads((tmp_path / "best_hparams.json").read_text())
    assert best["hyperparameters"]["batch_size"] == 32


@pytest.mark.slow(seconds=500)  # every registered model, one epoch each
def test_every_registered_model_trains_on_mirrored_replicas(task_data, tmp_path):
    sizes = ("units", "embedding_dim", "hidden_units", "head_units", "attention_units")
    # Each model takes the ones it has, and its task's tiny settings (zoo/tasks/*/examples.py).
    small = {**dict.fromkeys(sizes, 8), "batch_size": 16, "beam_size": 1, "attention_examples": 1}
    data = {task: str(path) for task, path in task_data.items()}
    result = last_json(run_job("every", "-", json.dumps(data), json.dumps(small),
                               str(tmp_path), timeout=900))  # fmt: skip
    assert sorted(result) == zoo.list_models()
    assert all(v == {"mode": "mirrored", "replicas": 2} for v in result.values())
