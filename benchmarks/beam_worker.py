"""One side of `beam_vs_before.py`: a translation model in one version of lstm-zoo.

Run with that version's source tree first on `PYTHONPATH`; it reads JSON commands on stdin
and answers one JSON line each:

    {"cmd": "load", "model": NAME, "weights": NPZ, "beam": K, "batch": B, "long": bool}
        builds NAME for `dates` (character level, as the recipes), loads the arrays of NPZ
        in order and answers with the teacher-forced logits' checksum (same weights, same
        model: the driver compares the two versions' sums); the batch is B test sources, or
        with `long` B sources of three test dates each (80-100 characters);
    {"cmd": "time", "repeats": N, "attention": bool}
        decodes the batch N times (with or without attention maps, as a SavedModel's
        signatures do: one trace for every shape) and answers with the seconds per call and
        the outputs;
    {"cmd": "train", "steps": N}
        compiles the loaded model as `zoo train` does (the task's loss, metric, optimizer and
        XLA setting) once, then trains it on the first N training batches of 64 of `dates`
        (the recipe's own pipeline) and answers with the seconds per step; the first call
        also traces (its time is the compile time, answered apart).

Works with the current `zoo.tasks.translation` and with the layout before the beam-search
rewrite (`zoo.translation`), whose `Translator` always computed attention maps.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_translation  # noqa: E402

try:  # the current layout: one folder per task
    from zoo.tasks.translation.pipeline import TextPipeline
    from zoo.tasks.translation.predictor import Translator

    CURRENT = True
except ImportError:
    try:  # one module per task
        from zoo.tasks.translation import TextPipeline, Translator

        CURRENT = True
    except ImportError:  # before the tasks became plug-ins
        from zoo.translation import TextPipeline, Translator

        CURRENT = False


def main() -> None:
    threads = int(os.environ.get("BENCH_THREADS", "1"))
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    corpus = load_translation("dates")
    text = TextPipeline.fit(corpus.train, level="char")
    state: dict = {}
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "load":
            keras.utils.set_random_seed(0)
            sizes = {
                "source_vocab_size": len(text.source_vocab),
                "target_vocab_size": len(text.target_vocab),
            }
            model = zoo.get(command["model"], **sizes)
            arrays = np.load(command["weights"])
            weights = [arrays[f"w{i}"] for i in range(len(arrays.files))]
            model.set_weights(weights)  # raises on a shape mismatch
            batch = corpus.test[: command["batch"]]
            if command.get("long"):  # sources of >= 80 characters: three dates in a row
                tests = corpus.test
                batch = [
                    (" / ".join(tests[(3 * i + j) % len(tests)][0] for j in range(3)), "")
                    for i in range(command["batch"])
                ]
            inputs, _, _ = next(iter(text.dataset(batch, len(batch))))
            logits = model(inputs, training=False)
            translator = Translator(model, text, beam_size=command["beam"])
            state = {"translator": translator, "ids": inputs["source"]}
            answer = {"checksum": float(tf.reduce_sum(tf.abs(logits))), "current": CURRENT}
        elif command["cmd"] == "time":
            translator, ids = state["translator"], state["ids"]
            # Both versions compiled alike: one trace for every batch size and length, as
            # in an exported SavedModel. The old search always made attention maps.
            key = "with_attention" if command["attention"] or not CURRENT else "text_only"
            if key not in state:
                spec = [tf.TensorSpec([None, None], tf.int32)]
                search = translator.decode_ids
                if key == "text_only":
                    search = functools.partial(search, with_attention=False)
                state[key] = tf.function(search, input_signature=spec)
            decode = state[key]
            out = decode(ids)  # warm-up: tracing
            start = time.perf_counter()
            for _ in range(command["repeats"]):
                out = decode(ids)
            seconds = (time.perf_counter() - start) / command["repeats"]
            answer = {
                "seconds": seconds,
                "translations": [t.decode("utf-8") for t in out["translation"].numpy()],
            }
        elif command["cmd"] == "train":
            answer = train(state, text, corpus, command["steps"])
        else:
            answer = {"error": f"unknown command {command['cmd']!r}"}
        print(json.dumps(answer), flush=True)


def train(state: dict, text, corpus, steps: int) -> dict:
    """Times training steps of the loaded model through the task's own compile and pipeline."""
    from zoo.tasks.translation.task import TASK

    model = state["translator"].model
    if "batches" not in state:
        TASK.compile(model, {"learning_rate": 1e-3, "clipnorm": 1.0, "jit_compile": False})
        data = text.dataset(corpus.train[: 64 * steps], 64, shuffle=False)
        state["batches"] = data.cache()
        start = time.perf_counter()
        model.fit(state["batches"], epochs=1, verbose=0)  # traces the step
        state["compile_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    history = model.fit(state["batches"], epochs=1, verbose=0)
    seconds = (time.perf_counter() - start) / steps
    return {
        "seconds": seconds,
        "compile_seconds": state["compile_seconds"],
        "loss": float(history.history["loss"][-1]),
    }


if __name__ == "__main__":
    main()
