"""Text classification and forecasting end to end on the JAX backend: `zoo train` (compiled
steps; a classifier's over a few padded lengths), evaluation with attention (and integrated
gradients), `zoo evaluate`; the run's model.keras answers alike on TensorFlow. (Translation's
is in test_training.py.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zoo.data.series_csv import read_series_csv
from zoo.tasks.classification.explanations import integrated_gradients
from zoo.tasks.classification.predictor import Classifier
from zoo.tasks.forecasting.task import TASK

# JAX trainings in subprocesses: minutes on a 2-core machine
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
pytest.importorskip("jax")

TINY_CLASSIFIER = {"units": 16, "embedding_dim": 16, "hidden_units": 16, "batch_size": 16}
TEXTS = ["the film is wonderful , scene 3", "the plot is dull , scene 9", "a fine cast"]
CLASSIFY = """
import json, sys
from zoo.cli import main
from zoo.tasks.classification.explanations import integrated_gradients
from zoo.tasks.classification.predictor import Classifier
from zoo.training import train

data, runs, texts, tiny = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
run = train("lstm_selfattn_classifier", data, runs_root=runs, epochs=3, verbose=0,
            learning_rate=1e-2, attention_examples=2, **tiny)
assert main(["evaluate", str(run)]) == 0
classifier = Classifier.load(run)
out = classifier.classify(texts)
print(json.dumps({
    "run": str(run),
    "label": out["label"],
    "probabilities": out["probabilities"].tolist(),
    "attention": [a.tolist() for a in out["attention"]],
    "attributions": [a.tolist() for a in integrated_gradients(classifier, texts)],
}))
"""


@pytest.fixture(scope="module")
def classifier_on_jax(reviews_csv, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    return run_on_jax(CLASSIFY, reviews_csv, runs, json.dumps(TEXTS), json.dumps(TINY_CLASSIFIER))


def run_on_jax(script: str, *args) -> tuple[str, dict]:
    """`(stdout, its last line as JSON)` of `script` run with `args` on the JAX backend."""
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, json.loads(result.stdout.strip().splitlines()[-1])


def test_a_classifier_trains_and_evaluates_on_jax(classifier_on_jax):
    stdout, out = classifier_on_jax
    # the compiled step saw a few padded lengths, chosen from the training texts
    assert "Padding from the data: texts padded to [" in stdout
    metrics = json.loads((Path(out["run"]) / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9, metrics  # the templated reviews are easy
    assert metrics["keras_backend"] == "jax"
    names = {path.name for path in (Path(out["run"]) / "attention").iterdir()}
    assert {"example_0.png", "example_0.html", "example_1.png", "example_1.html"} <= names
    assert "accuracy" in stdout  # zoo evaluate printed the run's metrics
    assert out["label"][:2] == ["fresh", "rotten"]


def test_tensorflow_answers_as_jax_did_from_the_same_file(classifier_on_jax):
    _, out = classifier_on_jax
    classifier = Classifier.load(out["run"])
    here = classifier.classify(TEXTS)
    assert here["label"] == out["label"]
    np.testing.assert_allclose(here["probabilities"], out["probabilities"], atol=1e-5)
    for mine, theirs in zip(here["attention"], out["attention"], strict=True):
        np.testing.assert_allclose(mine, np.asarray(theirs), atol=1e-5)
    for mine, theirs in zip(integrated_gradients(classifier, TEXTS), out["attributions"],
                            strict=True):  # fmt: skip
        np.testing.assert_allclose(mine, np.asarray(theirs), atol=1e-4)


ORIGINS = [200, 500, 900]  # forecast origins (rows of the hourly load CSV)
TINY_FORECASTER = {
    "units": 8, "attention_units": 8, "head_units": 8, "lookback": 24, "horizon": 12,
    "stride": 2, "batch_size": 32, "epochs": 2,
}  # fmt: skip
FORECAST = f"""
import json, sys
from zoo.cli import main
from zoo.data.series_csv import read_series_csv
from zoo.tasks.forecasting.task import TASK
from zoo.training import train

data, runs, tiny = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
run = train("lstm_attention_forecaster", data, runs_root=runs, verbose=0, target="load", **tiny)
assert main(["evaluate", str(run)]) == 0
predictor = TASK.load_predictor(run)
windows = predictor.pipeline.windows(read_series_csv(data, target="load")[0], {ORIGINS})
out = predictor.forecast(windows["history"], windows["future"], windows["forecast_start"])
print(json.dumps({{"run": str(run), **{{k: v.tolist() for k, v in out.items()}}}}))
"""


@pytest.fixture(scope="module")
def forecaster_on_jax(load_csv, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    return run_on_jax(FORECAST, load_csv, runs, json.dumps(TINY_FORECASTER))


def test_a_forecaster_trains_and_evaluates_on_jax(forecaster_on_jax):
    stdout, out = forecaster_on_jax
    metrics = json.loads((Path(out["run"]) / "metrics.json").read_text())
    assert metrics["count"] > 0 and np.isfinite(metrics["mae"]), metrics
    assert metrics["keras_backend"] == "jax"
    assert "LightGBM" in stdout and "MASE" in stdout  # zoo evaluate's table


def test_tensorflow_forecasts_as_jax_did_from_the_same_file(forecaster_on_jax, load_csv):
    _, out = forecaster_on_jax
    predictor = TASK.load_predictor(Path(out["run"]))
    windows = predictor.pipeline.windows(read_series_csv(load_csv, target="load")[0], ORIGINS)
    here = predictor.forecast(windows["history"], windows["future"], windows["forecast_start"])
    assert set(here) == set(out) - {"run"}
    for key, values in here.items():
        np.testing.assert_allclose(values, np.asarray(out[key]), rtol=1e-4, atol=1e-4)


TINY_SPEECH = {"units": 8, "num_mel_bins": 16, "batch_size": 8, "attention_examples": 1}
TINY_SPELLER = {"speller_units": 16, "attention_units": 8, "embedding_dim": 8}
RECOGNIZE = """
import json, sys
import numpy as np
from zoo.cli import main
from zoo.data.speech_corpora import read_speech_data
from zoo.tasks.speech.predictor import padded_audio, pad_waveforms
from zoo.tasks.speech.task import TASK
from zoo.training import train

name, data, runs, tiny = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
run = train(name, data, runs_root=runs, epochs=2, verbose=0, **tiny)
assert main(["evaluate", str(run), "--data", data]) == 0
recognizer = TASK.load_predictor(run, beam_size=2)
waveforms = [u[0] for u in read_speech_data(data)[:6]]
audio, lengths = padded_audio(*pad_waveforms(waveforms), 8000)
out = recognizer.transcribe(waveforms, with_alignment=False)
print(json.dumps({"run": str(run), "transcript": out["transcript"],
                  "log_prob": out["log_prob"].tolist(), "width": audio.shape[1]}))
"""


@pytest.mark.parametrize("name", ["lstm_las_asr", "lstm_ctc_asr"])
def test_a_recognizer_trains_evaluates_and_answers_alike_on_jax(name, speech_dir, tmp_path):
    tiny = {**TINY_SPEECH, **(TINY_SPELLER if name == "lstm_las_asr" else {})}
    stdout, out = run_on_jax(RECOGNIZE, name, speech_dir, tmp_path, json.dumps(tiny))
    # the compiled step saw a few padded lengths, chosen from the training utterances
    assert "Padding from the data: audio padded to [" in stdout
    metrics = json.loads((Path(out["run"]) / "metrics.json").read_text())
    assert metrics["keras_backend"] == "jax" and metrics["count"] > 0
    assert "scored 24 examples" in stdout  # zoo evaluate on the whole folder
    # TensorFlow, from the same model.keras and the same padded batch, answers alike.
    from zoo.data.speech_corpora import read_speech_data
    from zoo.tasks.speech.predictor import pad_waveforms, padded_audio
    from zoo.tasks.speech.task import TASK as SPEECH

    recognizer = SPEECH.load_predictor(Path(out["run"]), beam_size=2)
    waveforms = [u[0] for u in read_speech_data(speech_dir)[:6]]
    audio, lengths = padded_audio(*pad_waveforms(waveforms), out["width"])
    here = recognizer.run(audio, lengths, with_alignment=False)
    assert [t.decode() for t in here["transcript"].numpy()[:6]] == out["transcript"]
    np.testing.assert_allclose(here["log_prob"].numpy()[:6], out["log_prob"], rtol=1e-3, atol=1e-3)
