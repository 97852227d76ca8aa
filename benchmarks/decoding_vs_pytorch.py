"""Decoding latency of a trained translation run, text in and text out, beside plain PyTorch
with the same weights.

    pip install torch        # benchmark-only; never a dependency of lstm-zoo
    python recipes/lstm_luong_nmt.py               # or any finished lstm_luong_nmt run
    python benchmarks/decoding_vs_pytorch.py runs/lstm_luong_nmt/<run> [--threads 1]

The zoo side is what `zoo translate` and `zoo predict` run: `Translator.translate_all` (greedy
and beam 4, translations only) and `Translator.translate` (greedy, with attention maps and
tokens), and on TensorFlow the SavedModel `zoo export` writes (its `serving_default`
signature, greedy and beam 4). The PyTorch side is `benchmarks/torch_seq2seq.TorchSeq2Seq`
(Luong "general" attention with input feeding, an `nn.LSTMCell` loop stopping when every row
has put `</s>`) holding the run's own weights, with the text handled in Python: whitespace
collapsed, split into characters, looked up in the run's vocabulary, and the output ids joined
back. Both sides get the same `dates` test sentences, batched as `zoo translate` batches a
file (cut from the lines sorted by length); the script checks first that PyTorch's greedy
translations equal the zoo's.

Every configuration runs in this one process, interleaved over rounds (so drifting load hits
them alike); medians, with the ratios the issue's targets are stated in (zoo greedy / PyTorch
greedy at batch 64 and 1, zoo beam 4 / zoo greedy at batch 64). With `--threads 1` (the
default) the process is pinned to one core. The zoo runs on the Keras backend set
(`KERAS_BACKEND=jax` times the JAX-compiled search between the TF text graphs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
from timing import machine, per_second, pin_to_one_core, threads_flag  # noqa: E402

CORE = pin_to_one_core() if threads_flag(default=1) == 1 else None

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from torch_seq2seq import TorchSeq2Seq  # noqa: E402

from zoo.data import load_translation  # noqa: E402
from zoo.data.vocabulary import EOS_ID, PAD_ID, UNK_ID  # noqa: E402
from zoo.serving import export  # noqa: E402
from zoo.tasks.translation.predictor import ExportedTranslator, Translator  # noqa: E402

BATCHES = (1, 64)


def torch_twin(model: keras.Model) -> TorchSeq2Seq:
    """`TorchSeq2Seq` with the weights of a trained `lstm_luong_nmt` (one layer, general
    score, input feeding). Keras and PyTorch order the LSTM gates alike (i, f, c/g, o);
    Keras keeps one bias, PyTorch two (the second is set to zero)."""
    config = model.get_config()
    expected = {"num_layers": 1, "bidirectional": False, "attention": "luong",
                "attention_score": "general", "input_feeding": True, "reverse_source": False,
                "feed_context": False, "attention_window": None}  # fmt: skip
    differs = {k: config[k] for k, v in expected.items() if config[k] != v}
    if differs or (config["embedding_dim"], config["units"]) != (64, 128):
        raise SystemExit(f"Give a default lstm_luong_nmt run; this one differs in {differs}.")
    twin = TorchSeq2Seq(config["source_vocab_size"], config["target_vocab_size"], "general", True)
    weights = {w.path.split("/", 1)[1]: np.asarray(w.numpy()) for w in model.weights}

    def put(parameter: torch.Tensor, value: np.ndarray) -> None:
        parameter.data = torch.as_tensor(np.ascontiguousarray(value), dtype=torch.float32)

    put(twin.source_embedding.weight, weights["source_embedding/embeddings"])
    put(twin.target_embedding.weight, weights["target_embedding/embeddings"])
    encoder, cell = "encoder_lstm_0/lstm_cell/", "decoder_lstm_0/lstm_cell/"
    put(twin.encoder.weight_ih_l0, weights[encoder + "kernel"].T)
    put(twin.encoder.weight_hh_l0, weights[encoder + "recurrent_kernel"].T)
    put(twin.encoder.bias_ih_l0, weights[encoder + "bias"])
    put(twin.encoder.bias_hh_l0, np.zeros_like(weights[encoder + "bias"]))
    put(twin.cell.weight_ih, weights[cell + "kernel"].T)
    put(twin.cell.weight_hh, weights[cell + "recurrent_kernel"].T)
    put(twin.cell.bias_ih, weights[cell + "bias"])
    put(twin.cell.bias_hh, np.zeros_like(weights[cell + "bias"]))
    put(twin.kernel.weight, weights["attention/kernel"].T)
    put(twin.attentional.weight, weights["attention_layer/kernel"].T)
    put(twin.output.weight, weights["output_projection/kernel"].T)
    put(twin.output.bias, weights["output_projection/bias"])
    return twin.eval()


class TorchTranslator:
    """Text in, text out around `TorchSeq2Seq.greedy`, the text handled in plain Python."""

    def __init__(self, model: TorchSeq2Seq, source_tokens: list[str], target_tokens: list[str]):
        self.model = model
        self.source_ids = {token: i for i, token in enumerate(source_tokens)}
        self.target_tokens = target_tokens

    def translate_all(self, texts: list[str]) -> list[str]:
        rows = [[self.source_ids.get(c, UNK_ID) for c in " ".join(t.split())] for t in texts]
        ids = np.zeros((len(rows), max(map(len, rows))), np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
        steps = int(np.ceil(1.5 * ids.shape[1])) + 10  # the zoo's length limit
        out = self.model.greedy(torch.from_numpy(ids), steps).numpy()
        return [self._text(row) for row in out]

    def _text(self, ids) -> str:
        pieces = []
        for i in ids:
            if i in (EOS_ID, PAD_ID):
                break
            pieces.append(self.target_tokens[i])
        return "".join(pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="a finished lstm_luong_nmt run directory (default sizes)")
    parser.add_argument(
        "--out", help="default: benchmarks/results/decoding_vs_pytorch_<backend>.json"
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5, help="calls timed per round")
    parser.add_argument("--threads", type=int, default=1, help="threads for both frameworks")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    greedy = Translator.load(args.run, beam_size=1)
    beam = Translator.load(args.run, beam_size=4)
    text = greedy.text
    twin = TorchTranslator(torch_twin(greedy.model), text.source_vocab.tokens,
                           text.target_vocab.tokens)  # fmt: skip
    # A batch as `zoo translate` cuts them (from lines sorted by length): the 64 around the
    # median length of the `dates` test sources; batch 1 is the first of them.
    by_length = sorted((source for source, _ in load_translation("dates").test), key=len)
    middle = len(by_length) // 2
    sentences = by_length[middle - 32 : middle + 32]
    zoo_out, torch_out = greedy.translate_all(sentences), twin.translate_all(sentences)
    same = sum(a == b for a, b in zip(zoo_out, torch_out, strict=True))
    print(f"PyTorch's greedy translations equal the zoo's on {same}/{len(sentences)} sentences")

    runs: dict[str, tuple[Callable[[], object], int]] = {}
    for batch in BATCHES:
        texts = sentences[:batch]
        runs[f"zoo:greedy:batch{batch}"] = (lambda t=texts: greedy.translate_all(t), batch)
        runs[f"zoo:beam4:batch{batch}"] = (lambda t=texts: beam.translate_all(t), batch)
        runs[f"zoo:greedy_with_attention:batch{batch}"] = (
            lambda t=texts: greedy.translate(t),
            batch,
        )
        runs[f"torch:greedy:batch{batch}"] = (lambda t=texts: twin.translate_all(t), batch)
    if keras.backend.backend() == "tensorflow":  # the export's signature, as TF Serving runs it
        for beam_size in (1, 4):
            root = Path(tempfile.mkdtemp()) / "exports"
            served = ExportedTranslator(tf.saved_model.load(
                str(export(args.run, root=root, warmup=sentences[:1], beam_size=beam_size))
            ))  # fmt: skip
            for batch in BATCHES:
                texts = sentences[:batch]
                name = "greedy" if beam_size == 1 else "beam4"
                runs[f"export:{name}:batch{batch}"] = (
                    lambda t=texts, s=served: s.translate_all(t),
                    batch,
                )
    samples: dict[str, list[float]] = {key: [] for key in runs}
    for round_ in range(args.rounds):  # interleaved
        for key, (run, batch) in runs.items():
            samples[key].append(batch / per_second(run, batch, args.repeats))
        print(f"round {round_ + 1}/{args.rounds} done", flush=True)

    def ms(key: str) -> float:
        return 1000 * statistics.median(samples[key])

    latency = {
        key: {"latency_ms": round(ms(key), 2),
              "spread_ms": [round(1000 * min(v), 2), round(1000 * max(v), 2)]}
        for key, v in samples.items()
    }  # fmt: skip
    ratios = {
        "zoo greedy / torch greedy, batch 64": ("zoo:greedy:batch64", "torch:greedy:batch64"),
        "zoo greedy / torch greedy, batch 1": ("zoo:greedy:batch1", "torch:greedy:batch1"),
        "zoo beam 4 / zoo greedy, batch 64": ("zoo:beam4:batch64", "zoo:greedy:batch64"),
        "zoo greedy with attention / torch greedy, batch 1": (
            "zoo:greedy_with_attention:batch1", "torch:greedy:batch1"
        ),
    }  # fmt: skip
    ratios = {name: ms(a) / ms(b) for name, (a, b) in ratios.items()}
    report = {
        "benchmark": "decoding_vs_pytorch",
        "run": str(Path(args.run).resolve().name),
        "sentences": "dates test: the 64 around the median length (as zoo translate sorts)",
        "same_greedy_translations": f"{same}/{len(sentences)}",
        "rounds": args.rounds,
        "repeats": args.repeats,
        "threads": args.threads,
        "pinned_core": CORE,
        "backend": keras.backend.backend(),
        "machine": machine(tf, keras, torch),
        "latency": latency,
        "ratios": {k: round(v, 3) for k, v in ratios.items()},
    }
    out = Path(args.out or f"benchmarks/results/decoding_vs_pytorch_{keras.backend.backend()}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
