"""The zoo's translation models with the JAX backend, beside plain PyTorch, on a GPU (or CPU).

    KERAS_BACKEND=jax python benchmarks/jax_vs_pytorch.py [--device cuda|cpu] [--out FILE]
    KERAS_BACKEND=jax python benchmarks/jax_vs_pytorch.py --device cpu --threads 1

Needs keras, jax (with CUDA) and torch; not TensorFlow (the zoo's models and search import
without it). Batches are random token ids shaped like the `dates` task (sources of 16-32
characters, targets of 12 tokens, vocabularies of 120 and 16), because the data pipeline is
TensorFlow's; speed does not depend on the ids. Training: target tokens per second of one
optimizer step (Adam, clipping, loss over real tokens), the zoo under XLA (JAX always
compiles) and PyTorch eager (cuDNN LSTMs on a GPU), at batch 64 and 256, interleaved over rounds,
medians reported. Decoding: greedy and beam-4 search of the zoo (one `jax.jit`-compiled
in-graph loop) and PyTorch greedy decoding, sentences per second.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
# `--threads 1` must act before JAX starts: one Eigen thread per computation (as
# `torch.set_num_threads(1)` below) and the whole process pinned to one core, since XLA keeps
# worker threads whatever the flag says.
from timing import one_xla_core, per_second, threads_flag  # noqa: E402

THREADS = threads_flag(default=0)
CORE = one_xla_core(THREADS)

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch_seq2seq import TorchSeq2Seq, torch_train_step  # noqa: E402

import zoo  # noqa: E402
from zoo import decoding  # noqa: E402

SOURCE_VOCAB, TARGET_VOCAB, SOURCE_LENGTH, TARGET_LENGTH = 120, 16, 32, 12


def batch_of(size: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(16, SOURCE_LENGTH + 1, size)
    source = rng.integers(4, SOURCE_VOCAB, (size, SOURCE_LENGTH))
    source[np.arange(SOURCE_LENGTH)[None] >= lengths[:, None]] = 0
    target = rng.integers(4, TARGET_VOCAB, (size, TARGET_LENGTH + 1))
    target[:, 0], target[:, -1] = 2, 3  # <s> ... </s>
    return {
        "source": source.astype("int32"),
        "target_in": target[:, :-1].astype("int32"),
        "target_out": target[:, 1:].astype("int32"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="benchmarks/results/jax_vs_pytorch.json")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu", help="PyTorch's"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads per framework (0: their default; 1)"
    )
    args = parser.parse_args()
    assert keras.backend.backend() == "jax", "run with KERAS_BACKEND=jax"
    if args.threads not in (0, 1):
        parser.error("--threads takes 0 (each framework's default) or 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    keras.utils.set_random_seed(0)
    torch.manual_seed(0)
    sizes = {"source_vocab_size": SOURCE_VOCAB, "target_vocab_size": TARGET_VOCAB}

    train: dict[str, tuple[Callable[[], object], float]] = {}
    zoo_names = ["lstm_nmt", "lstm_luong_nmt", "lstm_luong_fast_nmt", "lstm_bahdanau_nmt"]
    models = {name: zoo.get(name, **sizes) for name in zoo_names}
    torch_kinds = {
        "plain": (None, False),
        "luong_feeding": ("general", True),
        "luong_fused": ("general", False),
    }
    for size in (64, 256):
        data = batch_of(size)
        weights = (data["target_out"] != 0).astype("float32")
        tokens = float(weights.sum())
        inputs = {"source": data["source"], "target_in": data["target_in"]}
        for name in zoo_names:
            model = zoo.get(name, **sizes)
            model.compile(
                optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True, reduction="mean_with_sample_weight"
                ),
            )
            train[f"zoo:{name}:batch{size}"] = (
                lambda m=model, i=inputs, t=data["target_out"], w=weights: m.train_on_batch(
                    i, t, sample_weight=w
                ),
                tokens,
            )
        source = torch.as_tensor(data["source"], dtype=torch.long, device=device)
        target_in = torch.as_tensor(data["target_in"], dtype=torch.long, device=device)
        target_out = torch.as_tensor(data["target_out"], dtype=torch.long, device=device)
        for kind, (attention, feeding) in torch_kinds.items():
            model = TorchSeq2Seq(SOURCE_VOCAB, TARGET_VOCAB, attention, feeding).to(device)
            step = torch_train_step(
                model, torch.optim.Adam(model.parameters(), 1e-3), source, target_in, target_out
            )

            def synchronized(step=step):
                step()
                if device.type == "cuda":
                    torch.cuda.synchronize()

            train[f"torch:{kind}:batch{size}"] = (synchronized, tokens)

    decode: dict[str, tuple[Callable[[], object], int]] = {}
    for size in (1, 64):
        source = batch_of(size, seed=1)["source"]
        for name, model in models.items():
            for beam in (1, 4):
                search = jax.jit(
                    lambda ids, m=model, b=beam: decoding.beam_search(m, ids, beam_size=b).tokens
                )
                decode[f"zoo:{name}:beam{beam}:batch{size}"] = (
                    lambda s=search, i=source: s(i).block_until_ready(),
                    size,
                )
        torch_source = torch.as_tensor(source, dtype=torch.long, device=device)
        for kind, (attention, feeding) in torch_kinds.items():
            model = TorchSeq2Seq(SOURCE_VOCAB, TARGET_VOCAB, attention, feeding).to(device)
            model.eval()
            steps = int(np.ceil(1.5 * SOURCE_LENGTH)) + 10
            decode[f"torch:{kind}:greedy:batch{size}"] = (
                lambda m=model, s=torch_source, n=steps: m.greedy(s, n).cpu(),
                size,
            )

    samples: dict[str, list[float]] = {key: [] for key in [*train, *decode]}
    for round_ in range(args.rounds):  # interleaved, so drifting clocks hit all alike
        for key, (run, count) in train.items():
            samples[key].append(per_second(run, count, args.steps))
        for key, (run, count) in decode.items():
            samples[key].append(per_second(run, count, 5))
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)

    def med(key: str) -> float:
        return statistics.median(samples[key])

    ratios = {}
    for size in (64, 256):
        for zoo_name, torch_name in (
            ("lstm_luong_nmt", "luong_feeding"),
            ("lstm_luong_fast_nmt", "luong_fused"),
            ("lstm_nmt", "plain"),
        ):
            key = f"zoo:{zoo_name} / torch:{torch_name} (batch {size})"
            zoo_speed = med(f"zoo:{zoo_name}:batch{size}")
            ratios[key] = round(zoo_speed / med(f"torch:{torch_name}:batch{size}"), 3)
    report = {
        "benchmark": "jax_vs_pytorch",
        "rounds": args.rounds,
        "threads": args.threads or "default",
        "pinned_core": CORE,
        "machine": {
            "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "jax": jax.__version__,
            "jax_devices": [str(d) for d in jax.devices()],
            "keras": keras.__version__,
            "torch": torch.__version__,
        },
        "training_tokens_per_s": {
            key: {"median": round(med(key)), "spread": [round(min(v)), round(max(v))]}
            for key, v in samples.items()
            if key in train
        },
        "decoding_sentences_per_s": {key: round(med(key), 1) for key in samples if key in decode},
        "training_ratios": ratios,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
