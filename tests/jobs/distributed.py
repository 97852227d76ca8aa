"""Training jobs the distributed-training tests run in fresh processes.

Devices and the cluster are fixed when the backend starts, so each job starts its own process:

    compare MODEL DATA SETTINGS OUT   mirrored over 1, then over 2 CPU replicas, same seed and
                                      global batch; prints both histories as JSON
    every - DATA SETTINGS OUT         every registered model, mirrored over 2 CPU replicas, one
                                      epoch; DATA and SETTINGS map a task to its file and its
                                      small settings (those a model does not take are left out)
    fit MODEL DATA SETTINGS -         the same with the model only built and fitted (the JAX
                                      backend, whose evaluation the zoo runs in TensorFlow),
                                      both on the batches two devices can share
    worker MODEL DATA SETTINGS RUN [DIE_AT]
                                      one worker of the TF_CONFIG cluster; prints each epoch it
                                      begins; with DIE_AT="EPOCH:BATCH" (1-based) it kills itself
                                      there, as a machine failure would
"""

import csv
import faulthandler
import json
import os
import signal
import sys
from pathlib import Path

import keras

import zoo
from zoo import distribute
from zoo.settings import resolve_settings, training_defaults
from zoo.tasks import get_task, task_examples
from zoo.training import build_compiled, train


def history(run: Path) -> list[dict]:
    with open(run / "history.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


class Witness(keras.callbacks.Callback):
    """Says which epochs begin (0-based, as Keras counts) and can kill the process mid-epoch."""

    def __init__(self, die_at: tuple[int, int] | None):
        super().__init__()
        self.die_at = die_at
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        print(f"begin epoch {epoch}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        if self.die_at == (self.epoch + 1, batch + 1):
            os.kill(os.getpid(), signal.SIGKILL)


def fit_on(name: str, data: str, settings: dict, devices: tuple[str, ...]) -> dict:
    distribute.configure("mirrored", "cpu:2")  # first: the devices are fixed at start
    spec = zoo.spec(name)
    model_args, training = resolve_settings(spec, data, settings)
    task = get_task(spec.task)
    corpus = task.load_data(data, training)
    pipeline = task.fit_pipeline(corpus, training)
    two = distribute.configure("mirrored", "cpu:2")
    histories = {}
    for key, replicas in zip(("one", "two"), devices, strict=True):
        cluster = distribute.configure("mirrored", replicas)
        keras.utils.set_random_seed(training["seed"])
        with cluster.scope():
            model = build_compiled(spec, model_args, training, pipeline)
            train_data, validation_data = map(
                two.prepare, task.datasets(pipeline, corpus, training)
            )
            fitted = model.fit(train_data, validation_data=validation_data, verbose=0,
                               epochs=training["epochs"], shuffle=False)  # fmt: skip
        histories[key] = fitted.history
    return histories


def main(job: str, name: str, data: str, settings: str, out: str, die_at: str = "") -> None:
    # A job that hangs prints every thread's Python stack and ends before the test's timeout
    # would kill it silently: the failure then shows where it stood.
    if hang_seconds := float(os.environ.get("ZOO_JOB_STACKS_AFTER", 0)):
        faulthandler.dump_traceback_later(hang_seconds, exit=True)
    settings = json.loads(settings)
    if job == "compare":
        distribute.configure("mirrored", "cpu:2")  # first: the devices are fixed at start
        one = train(name, data, runs_root=Path(out) / "one", verbose=0,
                    distribution="mirrored", devices="cpu:1", **settings)  # fmt: skip
        two = train(name, data, runs_root=Path(out) / "two", verbose=0,
                    distribution="mirrored", devices="cpu:2", **settings)  # fmt: skip
        print(json.dumps({"one": history(one), "two": history(two)}))
    elif job == "every":
        distribute.configure("mirrored", "cpu:2")
        data_of, finished = json.loads(data), {}
        for model in zoo.list_models():
            task = zoo.spec(model).task
            accepted = set(zoo.spec(model).defaults) | set(training_defaults(model, data_of[task]))
            wanted = {**settings, **task_examples(task).TINY_SETTINGS}  # the task's own first
            small = {k: v for k, v in wanted.items() if k in accepted}
            run = train(model, data_of[task], runs_root=out, verbose=0, epochs=1,
                        distribution="mirrored", devices="cpu:2", **small)  # fmt: skip
            finished[model] = json.loads((run / "metrics.json").read_text())["distribution"]
        print(json.dumps(finished))
    elif job == "fit":
        print(json.dumps(fit_on(name, data, settings, ("cpu:1", "cpu:2"))))
    elif job == "worker":
        stop = tuple(int(n) for n in die_at.split(":")) if die_at else None
        train(name, data, run_dir=out, verbose=2, distribution="multi-worker",
              callbacks=[Witness(stop)], **settings)  # fmt: skip
    else:
        raise SystemExit(f"unknown job {job!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
