import csv
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import run_until_line
from made_once import trained_once

from zoo.tasks.translation.pipeline import EmptyInputError
from zoo.tasks.translation.predictor import Translator
from zoo.training import load_hparams, train

TINY = {
    "units": 16,
    "embedding_dim": 8,
    "batch_size": 16,
    "beam_size": 2,
    "token_level": "char",
    "attention_examples": 2,
}


@pytest.fixture(scope="module")
def trained_run(dates_tsv, tmp_path_factory):
    return trained_once(tmp_path_factory, "training", lambda runs: train(
        "lstm_luong_nmt", str(dates_tsv), runs_root=runs, epochs=5, verbose=0, **TINY
    ))  # fmt: skip


def history(run):
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_run_directory_holds_everything(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {
        "config.json",
        "history.csv",
        "learning_curves.png",
        "model.keras",
        "metrics.json",
        "source_vocab.txt",
        "target_vocab.txt",
        "text.json",
        "checkpoints",
        "attention",
        "test_predictions.tsv",
    } <= names
    assert len(list((trained_run / "attention").glob("*.png"))) == 2
    config = json.loads((trained_run / "config.json").read_text())
    assert config["model"] == "lstm_luong_nmt" and config["model_args"]["units"] == 16
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert 0.0 <= metrics["exact_match"] <= 1.0 and metrics["count"] == 20
    assert metrics["keras_backend"] == keras.backend.backend()
    assert sum(b["count"] for b in metrics["by_source_length"]) == 20
    assert len(history(trained_run)) == 5
    with open(trained_run / "test_predictions.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == 20 and set(rows[0]) == {"source", "reference", "hypothesis"}
    exact = sum(row["reference"] == row["hypothesis"] for row in rows) / 20
    assert exact == pytest.approx(metrics["exact_match"])


def test_training_reduces_the_loss(trained_run):
    losses = [float(row["loss"]) for row in history(trained_run)]
    assert losses[-1] < 0.8 * losses[0]


def test_translator_loads_from_the_run(trained_run):
    translator = Translator.load(trained_run)
    out = translator.translate(["3 de marzo de 2015", "Samstag, 14. Juli 1990"])
    assert len(out["translation"]) == 2 and all(isinstance(t, str) for t in out["translation"])
    for i in range(2):
        assert out["attention"][i].shape == (
            len(out["target_tokens"][i]),
            len(out["source_tokens"][i]),
        )
    assert translator.translate_all(["3 de marzo de 2015"]) == out["translation"][:1]
    with pytest.raises(EmptyInputError, match="empty"):
        translator.translate(["ok", "  "])


class ScrambleFromEpoch(keras.callbacks.Callback):
    """Adds heavy noise to the weights before every epoch from `start` on, so that the later
    epochs validate worse than an earlier one; records the weights each epoch ended with."""

    def __init__(self, start):
        super().__init__()
        self.start = start
        self.ended_with = []
        self.rng = np.random.default_rng(0)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.start:
            for weight in self.model.trainable_weights:
                noise = self.rng.normal(0.0, 1.0, weight.shape).astype("float32")
                weight.assign(weight + noise)

    def on_epoch_end(self, epoch, logs=None):
        self.ended_with.append([keras.ops.convert_to_numpy(w) for w in self.model.weights])


def test_saved_model_file_is_the_best_epoch_not_the_last(dates_tsv, tmp_path):
    from zoo.tasks import get_task

    scramble = ScrambleFromEpoch(start=2)
    settings = {**TINY, "patience": 100}
    run = train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=4, verbose=0,
                callbacks=[scramble], **settings)  # fmt: skip
    monitor, mode = get_task("translation").monitor
    scores = [float(row[monitor]) for row in history(run)]
    best = scores.index(max(scores) if mode == "max" else min(scores))
    assert best < len(scores) - 1, scores  # the run this test needs: its best is not its last
    saved = keras.saving.load_model(run / "model.keras")
    for kept, ended in zip(saved.weights, scramble.ended_with[best], strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(kept), ended)
    last = scramble.ended_with[-1]
    assert any(
        not np.array_equal(keras.ops.convert_to_numpy(kept), ended)
        for kept, ended in zip(saved.weights, last, strict=True)
    )


def test_unknown_hyperparameter_is_rejected(dates_tsv, tmp_path):
    with pytest.raises(ValueError, match=r"Unknown hyperparameter.*'unitz'"):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, unitz=3)


def test_hparams_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_hparams(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{units: 3")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_hparams(bad)


def test_unwritable_runs_root(dates_tsv, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match="Cannot write the run directory"):
        train("lstm_nmt", str(dates_tsv), runs_root=blocker, epochs=1, verbose=0, **TINY)


@pytest.mark.slow(seconds=60)  # the default run stays short
def test_killed_run_resumes_with_the_same_command(dates_tsv, tmp_path):
    command = [
        sys.executable, "-m", "zoo.cli", "train", "lstm_nmt",
        "--data", str(dates_tsv), "--epochs", "8", "--runs-root", str(tmp_path),
        "--batch-size", "16", "--set", "units=16", "--set", "embedding_dim=8",
        "--set", "beam_size=1", "--set", "token_level=char", "--set", "patience=100",
    ]  # fmt: skip
    # Keras starts epoch 3 (and says so) only once epochs 1 and 2 are saved: killed in it.
    first = run_until_line(command, "Epoch 3/8")
    first.kill()
    first.wait()
    runs = tmp_path / "lstm_nmt"
    (run,) = runs.iterdir()
    assert not (run / "metrics.json").exists()
    done_before = len(history(run))
    assert done_before == 2

    subprocess.run(command, check=True, timeout=400, capture_output=True)
    assert [p.name for p in runs.iterdir()] == [run.name]  # resumed, not a new run
    epochs = [int(row["epoch"]) for row in history(run)]
    assert epochs[:done_before] == list(range(done_before))
    assert epochs[-1] == 7 and epochs == sorted(epochs)
    assert len(epochs) < 8 + done_before  # the finished epochs were not trained again
    assert (run / "metrics.json").is_file()


def test_translation_loss_is_a_mean_over_real_target_tokens():
    import zoo
    from zoo.tasks.translation.task import TASK

    model = zoo.get("lstm_nmt", source_vocab_size=10, target_vocab_size=8, units=8, embedding_dim=4)
    TASK.compile(model, {"learning_rate": 1e-3, "clipnorm": 1.0})
    source = np.array([[4, 5, 6], [7, 0, 0]])
    target_in = np.array([[2, 4, 5, 6], [2, 6, 0, 0]])
    target_out = np.array([[4, 5, 6, 3], [6, 3, 0, 0]])

    def batch_loss(extra_padding):
        pad = ((0, 0), (0, extra_padding))
        x = {"source": source, "target_in": np.pad(target_in, pad)}
        y = np.pad(target_out, pad)
        weight = (y != 0).astype("float32")
        logits = model(x)
        loss = model.compute_loss(x=x, y=y, y_pred=logits, sample_weight=weight)
        return float(keras.ops.convert_to_numpy(loss)), keras.ops.convert_to_numpy(logits)

    loss, logits = batch_loss(0)
    # By hand: the mean cross-entropy of the 6 real target tokens (not of all 8 positions).
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    real = target_out != 0
    rows, steps = np.nonzero(real)
    expected = -log_probs[rows, steps, target_out[real]].mean()
    assert loss == pytest.approx(expected, rel=1e-5)
    assert batch_loss(5)[0] == pytest.approx(loss, rel=1e-5)


def test_logs_get_one_line_per_epoch_instead_of_a_progress_bar():
    from zoo.training import progress_verbosity

    assert progress_verbosity("auto") == 2  # pytest captures stdout: not a terminal
    assert progress_verbosity(0) == 0


def test_one_decode_trace_serves_every_shape(trained_run):
    translator = Translator.load(trained_run)
    # Strings in, strings out: one graph each for translations and for attention maps.
    for texts in (
        ["3 de marzo de 2015"],
        ["Samstag, 14. Juli 1990", "2031年12月1日", "1 mai 2000"],
    ):
        translator.translate(texts)
        translator.translate_all(texts)
    assert translator._annotate_texts.experimental_get_tracing_count() == 1
    assert translator._translate_texts.experimental_get_tracing_count() == 1


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("epochs", 0, "`epochs` must be an integer >= 1"),
        ("batch_size", 0, "`batch_size` must be an integer >= 1"),
        ("max_source_length", 0, "`max_source_length` must be an integer >= 1"),
        ("learning_rate", float("nan"), "`learning_rate` must be a finite number > 0"),
        ("learning_rate", "fast", "`learning_rate` must be a number"),
        ("beam_size", 1.5, "`beam_size` must be an integer >= 1"),
        ("lowercase", "yes", "`lowercase` must be true or false"),
        ("placeholders", "printf", "`placeholders` must be a list of non-empty strings"),
        ("placeholders", ["(x"], r"'\(x' is not a valid RE2 regular expression \(missing \)"),
        ("keep_whitespace", True, "the word level cannot keep whitespace"),
    ],
)
def test_impossible_settings_are_refused_before_training(setting, value, message, tmp_path):
    from zoo.training import resolve_settings

    with pytest.raises(ValueError, match=message):
        settings = {"token_level": "word"} if setting == "keep_whitespace" else {}
        train("lstm_nmt", "dates", runs_root=tmp_path, **{setting: value, **settings})
    assert not (tmp_path / "lstm_nmt").exists()  # nothing was written
    _, training = resolve_settings("lstm_nmt", "dates", {"learning_rate": 1})
    assert training["learning_rate"] == 1.0 and isinstance(training["learning_rate"], float)


def copy_unfinished(run, runs_root, keep_model=True):
    """A copy of a finished run under `runs_root`, as if killed before (or after) training."""
    import shutil

    copy = runs_root / "lstm_luong_nmt" / run.name
    shutil.copytree(run, copy)
    (copy / "metrics.json").unlink()
    if not keep_model:
        (copy / "model.keras").unlink()
    return copy


def test_a_run_killed_after_training_only_evaluates_again(trained_run, dates_tsv, tmp_path):
    copy = copy_unfinished(trained_run, tmp_path)
    trained_at = (copy / "model.keras").stat().st_mtime_ns
    rerun = train("lstm_luong_nmt", str(dates_tsv), runs_root=tmp_path, epochs=5, verbose=0, **TINY)
    assert rerun == copy
    assert (copy / "model.keras").stat().st_mtime_ns == trained_at  # not trained again
    assert len(history(copy)) == 5  # no duplicated rows
    assert json.loads((copy / "metrics.json").read_text())["epochs_trained"] == 5


def test_a_run_in_use_by_another_process_is_not_resumed(trained_run, dates_tsv, tmp_path, capsys):
    from zoo.runs import try_lock as _try_lock

    busy = copy_unfinished(trained_run, tmp_path, keep_model=False)
    lock = _try_lock(busy)  # what a running `zoo train` holds
    try:
        run = train("lstm_luong_nmt", str(dates_tsv), runs_root=tmp_path, epochs=5, verbose=0,
                    **TINY)  # fmt: skip
    finally:
        lock.close()
    assert run != busy and (run / "metrics.json").is_file()
    assert not (busy / "metrics.json").exists()
    assert "being trained by another process; starting a new run" in capsys.readouterr().out


def test_a_diverged_training_is_a_failed_run(dates_tsv, tmp_path):
    from zoo.training import TrainingDivergedError

    class NaNLoss(keras.callbacks.Callback):  # what an exploding gradient leads to
        def on_train_batch_end(self, batch, logs=None):
            if batch == 3:
                logs["loss"] = float("nan")

    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 4.*lower the learning rate"):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=2, verbose=0,
              callbacks=[NaNLoss()], **TINY)  # fmt: skip
    (run,) = (tmp_path / "lstm_nmt").iterdir()
    assert (run / "failed.json").is_file()
    assert not (run / "model.keras").exists() and not (run / "metrics.json").exists()
    from zoo.serving import export

    with pytest.raises(FileNotFoundError, match="holds no trained model"):
        export(run, root=tmp_path / "exports")


def test_the_initialization_seed_does_not_move_the_data_split(dates_tsv, tmp_path):
    from zoo.data import load_translation

    run = train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=1, verbose=0, seed=3,
                **{**TINY, "attention_examples": 0})  # fmt: skip
    config = json.loads((run / "config.json").read_text())
    assert config["training"]["seed"] == 3 and config["training"]["split_seed"] == 0
    split = load_translation(str(dates_tsv), seed=0)
    examples = json.loads((run / "examples.json").read_text())
    assert examples == [source for source, _ in split.validation[:5]]
    moved = load_translation(str(dates_tsv), seed=1)
    assert [s for s, _ in moved.validation[:5]] != examples  # split_seed is what moves it


@pytest.mark.slow(seconds=45)  # the default run stays short
def test_a_resume_state_cut_short_by_a_kill_is_dropped_not_fatal(dates_tsv, tmp_path, capsys):
    class Killed(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("killed")

    settings = {"epochs": 2, "verbose": 0, **TINY, "attention_examples": 0}
    with pytest.raises(RuntimeError, match="killed"):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, callbacks=[Killed()], **settings)
    (run,) = (tmp_path / "lstm_nmt").iterdir()
    metadata = run / "checkpoints" / "backup" / "training_metadata.json"
    assert metadata.is_file() and len(history(run)) == 1
    metadata.write_text('{"epoch": ')  # what a kill during the write leaves
    assert train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, **settings) == run
    assert "is damaged; this run starts over from epoch 1" in capsys.readouterr().out
    assert [row["epoch"] for row in history(run)] == ["0", "1"]  # whole, not duplicated


def test_a_damaged_model_file_is_named(trained_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    data = (run / "model.keras").read_bytes()
    (run / "model.keras").write_bytes(data[: len(data) // 2])  # cut short
    with pytest.raises(ValueError, match=r"model.keras cannot be loaded .*the file is damaged"):
        Translator.load(run)


def test_a_model_file_from_another_version_is_told_from_a_damaged_one(trained_run, tmp_path):
    """A newer lstm-zoo may name a class this one lacks: Keras raises TypeError on loading."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    with zipfile.ZipFile(run / "model.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["config.json"] = files["config.json"].replace(b'Seq2Seq"', b'Seq2SeqV2"')
    with zipfile.ZipFile(run / "model.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match=r"TypeError: Could not locate class 'Seq2SeqV2'") as same:
        Translator.load(run)
    assert "classes differ from lstm-zoo" in str(same.value)

    config = json.loads((run / "config.json").read_text("utf-8"))
    (run / "config.json").write_text(json.dumps({**config, "zoo_version": "9.0.0"}), "utf-8")
    with pytest.raises(ValueError, match=r"saved by Keras \S+ and lstm-zoo 9\.0\.0, and this is"):
        Translator.load(run)


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_is_a_training_setting(precision, dates_tsv, tmp_path):
    run = train("lstm_luong_nmt", str(dates_tsv), runs_root=tmp_path, epochs=1, verbose=0,
                precision=precision, **{**TINY, "attention_examples": 0})  # fmt: skip
    model = keras.saving.load_model(run / "model.keras", compile=False)
    assert model.dtype_policy.name == precision
    assert model.attention_layer.dtype_policy.name == precision
    assert np.isfinite(float(history(run)[0]["loss"]))
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    with pytest.raises(ValueError, match="`precision` must be one of"):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, precision="float8")


def test_cosine_schedule_decays_the_learning_rate_by_epoch(dates_tsv, tmp_path):
    """lr * (1 + cos(pi * epoch / epochs)) / 2: 1, 0.75, 0.25 of it over 3 epochs; logged."""
    run = train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=3, verbose=0,
                learning_rate=0.004, lr_schedule="cosine", patience=3,
                **{**TINY, "attention_examples": 0})  # fmt: skip
    rates = [float(row["learning_rate"]) for row in history(run)]
    assert rates == pytest.approx([0.004, 0.003, 0.001], rel=1e-5)
    assert json.loads((run / "config.json").read_text())["training"]["lr_schedule"] == "cosine"
    with pytest.raises(ValueError, match="`lr_schedule` must be one of"):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, lr_schedule="linear")


def test_a_compiled_step_sees_a_bounded_set_of_shapes(dates_tsv):
    from zoo.data import load_translation
    from zoo.tasks.translation.pipeline import TextPipeline

    corpus = load_translation(str(dates_tsv))
    text = TextPipeline.fit(corpus.train, level="char")
    plan = text.padding_plan(corpus.train, 16, compiled=True)
    shapes, padded, longest = set(), np.zeros(2), np.zeros(2)
    data = text.dataset(corpus.train, 16, shuffle=True, padding=plan)
    for inputs, target_out, weights in data:
        widths = (inputs["source"].shape[1], target_out.shape[1])
        assert widths[0] in plan.source_edges and widths[1] in plan.target_edges
        assert inputs["target_in"].shape == target_out.shape == weights.shape
        shapes.add(widths)
        padded += widths
        longest += [
            int((inputs["source"] > 0).numpy().sum(1).max()),
            int(weights.numpy().sum(1).max()),
        ]
    # Few shapes, few wasted steps: padded steps per real step of each batch's longest row.
    assert len(shapes) <= len(plan.source_edges) * len(plan.target_edges) <= 4
    assert np.all(padded / longest <= 1.15), padded / longest


@pytest.mark.slow
def test_jit_compile_trains(dates_tsv, tmp_path):
    from zoo.tasks.translation.task import TASK

    run = train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=1, verbose=0,
                jit_compile=True, **{**TINY, "attention_examples": 0})  # fmt: skip
    assert np.isfinite(float(history(run)[0]["loss"]))
    assert TASK.settings["jit_compile"] is False  # off by default: slower on CPUs
    # The compiled step's padding, chosen from the data: every ISO date target is 10
    # characters and </s>, one shape and no wasted step on that side.
    padding = json.loads((run / "metrics.json").read_text())["padding"]
    assert padding["target_edges"] == [11] and padding["target_waste"] == 1.0
    assert padding["source_waste"] <= 1.15 and padding["shapes"] <= 4


def test_a_fresh_process_predicts_with_a_run(trained_run):
    # Only the CLI is imported there: loading model.keras must register the zoo's classes.
    result = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "predict", str(trained_run), "3 de marzo de 2015"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("3 de marzo de 2015\t")


@pytest.mark.slow(seconds=115)  # the default run stays short
def test_translation_trains_on_jax_and_tensorflow_decodes_it_alike(dates_tsv, tmp_path):
    """`zoo train` on the JAX backend (compiled steps over bounded shapes, a jitted search)
    finishes with metrics, and TensorFlow reproduces its translations from its model.keras."""
    import os

    texts = ["3 de marzo de 2015", "Samstag, 14. Juli 1990", "2031年12月1日"]
    script = (
        "import json\n"
        "from zoo.tasks.translation.predictor import Translator\n"
        "from zoo.training import train\n"
        f"run = train('lstm_luong_nmt', {str(dates_tsv)!r}, runs_root={str(tmp_path)!r},\n"
        f"            epochs=2, verbose=0, **{TINY!r})\n"
        f"out = Translator.load(run).translate({texts!r})\n"
        "print(json.dumps({'run': str(run), 'translation': out['translation'],\n"
        "                  'log_prob': out['log_prob'].tolist()}))\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=900, env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    on_jax = json.loads(result.stdout.strip().splitlines()[-1])
    run = on_jax["run"]
    metrics = json.loads((Path(run) / "metrics.json").read_text())
    assert metrics["count"] == 20 and len(history(Path(run))) == 2
    on_tensorflow = Translator.load(run).translate(texts)
    assert on_tensorflow["translation"] == on_jax["translation"]
    np.testing.assert_allclose(on_tensorflow["log_prob"], on_jax["log_prob"], atol=1e-4)


def test_target_counts_count_each_decoder_output():
    from zoo.data.vocabulary import EOS_ID
    from zoo.tasks.translation.pipeline import TextPipeline

    text = TextPipeline.fit([("x", "a b a"), ("y", "b c"), ("z", "c")], level="word")
    counts = text.target_counts(["a b a", "b c"], batch=1)  # two batches
    vocab = text.target_vocab
    expected = np.zeros(len(vocab), "int64")
    expected[[vocab.id("a"), vocab.id("b"), vocab.id("c"), EOS_ID]] = [2, 2, 1, 2]
    np.testing.assert_array_equal(counts, expected)


def test_unigram_output_bias_starts_from_the_training_targets(dates_tsv, tmp_path):
    """The bias `fit` starts from: log add-one-smoothed frequencies of the decoder's outputs
    in the training targets (the default, "zeros", leaves Keras' zero bias)."""
    from zoo.data import load_translation
    from zoo.data.vocabulary import EOS_ID
    from zoo.tasks.translation.pipeline import TextPipeline

    class BiasAtStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.bias = keras.ops.convert_to_numpy(self.model.output_projection.bias)

    seen = BiasAtStart()
    settings = {**TINY, "attention_examples": 0, "output_bias": "unigram"}
    run = train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=1, verbose=0,
                callbacks=[seen], **settings)  # fmt: skip

    targets = [target for _, target in load_translation(str(dates_tsv)).train]  # the run's split
    text = TextPipeline.load(run)
    counts = text.target_counts(targets) + 1
    np.testing.assert_allclose(seen.bias, np.log(counts / counts.sum()), rtol=1e-5)
    # Against counts made without the pipeline: ISO dates (characters) end with one </s>.
    bias = {token: seen.bias[text.target_vocab.id(token)] for token in ("-", "0")}
    dashes, zeros = (sum(t.count(c) for t in targets) for c in ("-", "0"))
    assert dashes == 2 * len(targets)
    assert bias["-"] - bias["0"] == pytest.approx(np.log((dashes + 1) / (zeros + 1)), abs=1e-5)
    assert seen.bias[EOS_ID] - bias["-"] == pytest.approx(
        np.log((len(targets) + 1) / (dashes + 1)), abs=1e-5
    )
    assert json.loads((run / "config.json").read_text())["training"]["output_bias"] == "unigram"
    with pytest.raises(ValueError, match="`output_bias` must be one of"):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, output_bias="uniform")


# -- run directories that were tampered with or damaged ------------------------------------


@pytest.mark.parametrize(
    "planted", ["history.csv", "checkpoints/backup/latest.weights.h5", ".lock", "metrics.json"]
)
def test_a_link_out_of_the_run_directory_is_refused_not_written_through(
    dates_tsv, tmp_path, planted
):
    outside = tmp_path / "outside.txt"
    outside.write_text("not the zoo's\n")
    run = tmp_path / "run"
    link = run / planted
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    with pytest.raises(ValueError, match=r"is a link to .*outside the run directory"):
        train("lstm_nmt", str(dates_tsv), run_dir=run, epochs=1, verbose=0, **TINY)
    assert outside.read_text() == "not the zoo's\n"
    assert sorted(p.name for p in run.iterdir()) == [planted.split("/")[0]]  # nothing written


def test_a_link_inside_the_run_directory_is_allowed(tmp_path):
    from zoo.runs import check_no_links_out

    (tmp_path / "real.txt").write_text("x")
    (tmp_path / "alias.txt").symlink_to(tmp_path / "real.txt")
    check_no_links_out(tmp_path)  # no error


def test_falling_back_to_the_previous_state_cuts_the_epoch_it_repeats(tmp_path, capsys):
    from zoo.runs import check_backup, read_history

    backup = tmp_path / "checkpoints" / "backup"
    backup.mkdir(parents=True)
    (backup / "training_metadata.json").write_text("")  # emptied by a kill
    (backup / "training_metadata.json.bkp").write_text('{"epoch": 2, "batch": -1}')
    (backup / "latest.weights.h5").write_bytes(b"cut")
    (backup / "latest.weights.h5.bkp").write_bytes(b"whole")
    history_csv = tmp_path / "history.csv"
    history_csv.write_text("epoch,loss\n0,3.0\n1,2.0\n2,1.5\n")  # epoch 2 is repeated
    check_backup(backup, history_csv)
    assert "resuming from the epoch before it" in capsys.readouterr().out
    assert [row["epoch"] for row in read_history(history_csv)] == ["0", "1"]
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 2
    assert (backup / "latest.weights.h5").read_bytes() == b"whole"


@pytest.mark.slow(seconds=50)  # the default run stays short
def test_a_resumed_run_after_a_fallback_counts_each_epoch_once(dates_tsv, tmp_path):
    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("killed")

    settings = {"epochs": 3, "verbose": 0, **TINY, "attention_examples": 0, "patience": 100}
    with pytest.raises(RuntimeError, match="killed"):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, callbacks=[Stop()], **settings)
    (run,) = (tmp_path / "lstm_nmt").iterdir()
    (run / "checkpoints" / "backup" / "training_metadata.json").write_text("")
    assert train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, **settings) == run
    assert [row["epoch"] for row in history(run)] == ["0", "1", "2"]
    assert json.loads((run / "metrics.json").read_text())["epochs_trained"] == 3


def test_an_unfinished_run_with_an_empty_config_is_named_not_orphaned(dates_tsv, tmp_path):
    run = tmp_path / "lstm_nmt" / "20260101-000000-000000"
    run.mkdir(parents=True)
    (run / "config.json").write_text("")
    with pytest.raises(ValueError, match=r"config.json is damaged.*--new"):
        train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=1, verbose=0, **TINY)
    assert list((tmp_path / "lstm_nmt").iterdir()) == [run]  # no new run beside it


def test_a_history_cut_inside_its_header_is_named(tmp_path):
    from zoo.runs import read_history

    history_csv = tmp_path / "history.csv"
    history_csv.write_text("epoch,loss,val_lo")
    with pytest.raises(ValueError, match=r"history.csv is damaged"):
        read_history(history_csv)


def test_a_cut_pipeline_file_of_a_finished_run_is_named(trained_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    text = (run / "text.json").read_text()
    (run / "text.json").write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match=r"text.json is not valid JSON"):
        Translator.load(run)


def test_a_run_records_its_data_file_by_absolute_path(dates_tsv, tmp_path, monkeypatch):
    monkeypatch.chdir(dates_tsv.parent)
    run = train("lstm_nmt", dates_tsv.name, runs_root=tmp_path, epochs=1, verbose=0,
                **{**TINY, "attention_examples": 0})  # fmt: skip
    config = json.loads((run / "config.json").read_text())
    assert config["data"] == str(dates_tsv.resolve())
    assert json.loads((run / "metrics.json").read_text())["data"] == config["data"]


def test_progress_lines_reach_a_log_on_a_scripted_clock():
    import io

    from zoo.progress import ProgressLines, duration

    # Every reading of the clock is 31 s after the last, but the first step took 1,000 s more
    # (compiling): the estimate must not count it.
    readings = iter([0, 1031, *range(1062, 100_000, 31)])
    out = io.StringIO()
    progress = ProgressLines(
        interval=30, estimate_after=4, clock=lambda: next(readings), stream=out
    )
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((40, 2), "float32"), np.zeros((40, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[progress])
    lines = out.getvalue().splitlines()
    estimates = [line for line in lines if "estimate:" in line]
    assert len(estimates) == 1 and "10 steps an epoch at 0.03 steps/s" in estimates[0]
    assert "about 5 min 10 s an epoch and 10 min 20 s for the 2 epoch(s) left" in estimates[0]
    steps = [line for line in lines if "steps/s" in line and "estimate" not in line]
    assert len(steps) == 20  # one per step: each is 31 s after the last line
    assert steps[4].startswith("  epoch 1/2: step 5/10,") and "epoch ETA" in steps[4]
    assert duration(75) == "1 min 15 s" and duration(4000) == "1 h 06 min"


def test_a_run_whose_output_is_not_a_terminal_gets_progress_lines(dates_tsv, tmp_path, capsys):
    train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=1, **TINY)  # verbose="auto"
    assert "estimate: " in capsys.readouterr().out  # after the first steps, in the log


def test_tensorboard_logs_hold_loss_learning_rate_and_attention_maps(trained_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def tags(folder, kind):
        events = EventAccumulator(str(trained_run / "tensorboard" / folder))
        events.Reload()
        return set(events.Tags()[kind])

    assert {"epoch_loss", "epoch_learning_rate"} <= tags("train", "tensors")
    assert "epoch_loss" in tags("validation", "tensors")
    pngs = {png.stem for png in (trained_run / "attention").glob("*.png")}
    assert pngs and pngs == tags("attention", "tensors")  # tf.summary.image: tensor events


def test_durations_read_as_people_write_them():
    from zoo.schedules import parse_duration

    assert [parse_duration(t) for t in ("90s", "30m", "1.5h", "45", "2 min")] == [
        90,
        1800,
        5400,
        45,
        120,
    ]
    with pytest.raises(ValueError, match="time budget"):
        parse_duration("soon")


def test_a_time_budget_finishes_the_run_properly(dates_tsv, tmp_path, monkeypatch, capsys):
    import itertools

    import zoo.schedules

    seconds = itertools.count()  # a scripted clock: each reading is one second after the last
    monkeypatch.setattr(zoo.schedules, "clock", lambda: next(seconds))
    settings = {**TINY, "patience": 100, "lr_schedule": "cosine", "attention_examples": 0}
    run = train("lstm_nmt", str(dates_tsv), runs_root=tmp_path, epochs=50, verbose=0,
                time_budget=30, **settings)  # fmt: skip
    out = capsys.readouterr().out
    # 23 steps an epoch (~26 clock readings): the second epoch spends the budget.
    assert "Time budget of 30 s spent (epoch 1 on, step" in out
    assert "so about 1 epoch(s) fit; the learning rate's cosine decay now ends there" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 2 and (run / "model.keras").is_file()
    assert json.loads((run / "config.json").read_text())["training"]["time_budget"] == 30.0
