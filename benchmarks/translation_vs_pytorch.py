"""The zoo's translation models beside plain PyTorch and Keras built-ins of the same shape.

    pip install torch        # benchmark-only; never a dependency of lstm-zoo
    python benchmarks/translation_vs_pytorch.py [--threads 1] [--out benchmarks/results/...]

Training: target tokens per second of one optimizer step (Adam, gradient clipping, loss over
the real target tokens) on the same `dates` batch of 64, for
- `zoo:lstm_luong_nmt` (input feeding: one LSTMCell step at a time) against `torch:luong_feeding`,
  the same architecture in plain PyTorch (nn.LSTM encoder, nn.LSTMCell decoder loop);
- `zoo:lstm_luong_fast_nmt` (no input feeding: fused decoder) against `torch:luong_fused`
  (one nn.LSTM over the target, attention for all steps in one batched matmul) and
  `keras:builtin_attention` (LSTM + LSTM + `keras.layers.Attention`, no input feeding);
- `zoo:lstm_nmt` against `torch:plain`, and `zoo:lstm_bahdanau_nmt` for reference.
Decoding: greedy and beam-4 latency of the zoo's in-graph search at batch 1 and 64, and
PyTorch greedy decoding of the same architectures.

Every configuration runs in this one process, interleaved over rounds (so drifting load hits
them alike) and is reported as the median with the ratios the README quotes. With `--threads 1`
(the default) the process is pinned to one core, so no framework's helper threads add a second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# One thread each is pinned to one core before the frameworks start their thread pools.
from timing import machine, per_second, pin_to_one_core, threads_flag  # noqa: E402

CORE = pin_to_one_core() if threads_flag(default=1) == 1 else None

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from torch_seq2seq import DROPOUT, EMBEDDING, UNITS, TorchSeq2Seq, torch_train_step  # noqa: E402

import zoo  # noqa: E402
from zoo.data import load_translation  # noqa: E402
from zoo.tasks.translation.pipeline import TextPipeline  # noqa: E402
from zoo.tasks.translation.predictor import Translator  # noqa: E402
from zoo.tasks.translation.task import TASK  # noqa: E402

BATCH = 64


# -- Keras built-ins ------------------------------------------------------------------------


def keras_builtin(source_vocab, target_vocab) -> keras.Model:
    """LSTM encoder, LSTM decoder, `keras.layers.Attention` (dot) over the encoder outputs."""
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    x = keras.layers.Embedding(source_vocab, EMBEDDING, mask_zero=True)(source)
    memory, h, c = keras.layers.LSTM(UNITS, return_sequences=True, return_state=True)(x)
    y = keras.layers.Embedding(target_vocab, EMBEDDING)(target_in)
    y = keras.layers.LSTM(UNITS, return_sequences=True)(y, initial_state=[h, c])
    context = keras.layers.Attention()([y, memory])
    y = keras.layers.Dense(UNITS, activation="tanh", use_bias=False)(
        keras.layers.Concatenate()([context, y])
    )
    logits = keras.layers.Dense(target_vocab)(keras.layers.Dropout(DROPOUT)(y))
    return keras.Model({"source": source, "target_in": target_in}, logits)


# -- timing -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="benchmarks/results/translation_vs_pytorch.json")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="threads for both frameworks")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(0)
    torch.manual_seed(0)

    corpus = load_translation("dates")
    text = TextPipeline.fit(corpus.train, level="char")
    inputs, targets, weights = next(iter(text.dataset(corpus.train[:BATCH], BATCH)))
    tokens = float(weights.numpy().sum())
    sizes = TASK.model_sizes(text)
    source_vocab, target_vocab = sizes["source_vocab_size"], sizes["target_vocab_size"]
    settings = {"learning_rate": 1e-3, "clipnorm": 1.0}

    train: dict[str, Callable[[], object]] = {}
    zoo_names = ["lstm_nmt", "lstm_luong_nmt", "lstm_luong_fast_nmt", "lstm_bahdanau_nmt"]
    models = {name: zoo.get(name, **sizes) for name in zoo_names}
    for name, model in models.items():
        TASK.compile(model, settings)
        train[f"zoo:{name}"] = lambda m=model: m.train_on_batch(
            inputs, targets, sample_weight=weights
        )
    builtin = keras_builtin(source_vocab, target_vocab)
    TASK.compile(builtin, settings)
    train["keras:builtin_attention"] = lambda: builtin.train_on_batch(
        inputs, targets, sample_weight=weights
    )
    source = torch.as_tensor(inputs["source"].numpy(), dtype=torch.long)
    target_in = torch.as_tensor(inputs["target_in"].numpy(), dtype=torch.long)
    target_out = torch.as_tensor(targets.numpy(), dtype=torch.long)
    torch_models = {
        "plain": TorchSeq2Seq(source_vocab, target_vocab),
        "luong_feeding": TorchSeq2Seq(source_vocab, target_vocab, "general", True),
        "luong_fused": TorchSeq2Seq(source_vocab, target_vocab, "general", False),
    }
    for name, model in torch_models.items():
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)
        train[f"torch:{name}"] = torch_train_step(model, optimizer, source, target_in, target_out)

    decode: dict[str, tuple[Callable[[], object], int]] = {}
    steps = int(np.ceil(1.5 * source.shape[1])) + 10
    for name, model in models.items():
        for beam in (1, 4):
            translator = Translator(model, text, beam_size=beam)
            # The search on ids, one trace for every shape (as the export traces it).
            search = tf.function(translator.decode_ids, [tf.TensorSpec([None, None], tf.int32)])
            for batch in (1, BATCH):
                ids = inputs["source"][:batch]
                decode[f"zoo:{name}:beam{beam}:batch{batch}"] = (
                    lambda s=search, i=ids: s(i)["translation"].numpy(),
                    batch,
                )
    for name, model in torch_models.items():
        model.eval()
        for batch in (1, BATCH):
            decode[f"torch:{name}:greedy:batch{batch}"] = (
                lambda m=model, b=batch: m.greedy(source[:b], steps),
                batch,
            )

    samples: dict[str, list[float]] = {key: [] for key in [*train, *decode]}
    for round_ in range(args.rounds):  # interleaved
        for key, run in train.items():
            samples[key].append(per_second(run, tokens, args.steps))
        for key, (run, batch) in decode.items():
            samples[key].append(per_second(run, batch, 3))
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)

    def med(key: str) -> float:
        return statistics.median(samples[key])

    training = {
        key: {"tokens_per_s": round(med(key)), "spread": [round(min(v)), round(max(v))]}
        for key, v in samples.items()
        if key in train
    }
    decoding = {
        key: {
            "sentences_per_s": round(med(key), 1),
            "latency_ms": round(1000 * batch / med(key), 2),
        }
        for key, (_, batch) in decode.items()
    }
    ratios = {
        "zoo:lstm_luong_nmt / torch:luong_feeding": med("zoo:lstm_luong_nmt")
        / med("torch:luong_feeding"),
        "zoo:lstm_luong_fast_nmt / torch:luong_fused": med("zoo:lstm_luong_fast_nmt")
        / med("torch:luong_fused"),
        "zoo:lstm_luong_fast_nmt / keras:builtin_attention": med("zoo:lstm_luong_fast_nmt")
        / med("keras:builtin_attention"),
        "zoo:lstm_nmt / torch:plain": med("zoo:lstm_nmt") / med("torch:plain"),
    }
    report = {
        "benchmark": "translation_vs_pytorch",
        "batch_size": BATCH,
        "rounds": args.rounds,
        "threads": args.threads,
        "pinned_core": CORE,
        "machine": machine(tf, keras, torch),
        "training": training,
        "decoding": decoding,
        "training_ratios": {k: round(v, 3) for k, v in ratios.items()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
