"""The speech family: data, front end, CTC loss by hand, decoding to text, training, export."""

import itertools
import json
import math
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import softmax, to_numpy, wav_file
from made_once import made_once, trained_once

import zoo
from zoo.data import espeak, speech, transcripts
from zoo.data.audio import read_wav, resample, wav_bytes
from zoo.data.tsv import DataFileError
from zoo.data.vocabulary import Vocabulary
from zoo.metrics import speech_metrics
from zoo.models.audio_features import LogMelFeatures, SpecAugment
from zoo.models.listener import halve as _halve
from zoo.tasks.speech.augmentation import band_limit, change_rate, perturb, resample_in_graph
from zoo.tasks.speech.pipeline import SpeechPipeline
from zoo.tasks.speech.predictor import SpeechRecognizer, pad_waveforms
from zoo.tasks.speech.task import TASK
from zoo.training import train

ROOT = Path(__file__).parents[1]
TINY = {"units": 8, "num_mel_bins": 16, "batch_size": 8, "attention_examples": 1}
TINY_LAS = {**TINY, "speller_units": 16, "attention_units": 8, "embedding_dim": 8}


# -- transcripts and data ---------------------------------------------------------------------


def test_number_and_ordinal_words():
    assert transcripts.number_words(0) == "zero"
    assert transcripts.number_words(17) == "seventeen"
    assert transcripts.number_words(40) == "forty"
    assert transcripts.number_words(312) == "three hundred twelve"
    assert transcripts.number_words(7005) == "seven thousand five"
    assert transcripts.ordinal_words(1) == "first"
    assert transcripts.ordinal_words(12) == "twelfth"
    assert transcripts.ordinal_words(21) == "twenty first"
    assert transcripts.ordinal_words(30) == "thirtieth"
    with pytest.raises(ValueError, match="0 <= n < 10000"):
        transcripts.number_words(10_000)


def test_transcripts_are_normalized_text():
    assert transcripts.normalize_transcript("  Dash [-], A.M.!") == "dash a m"
    rng = np.random.default_rng(0)
    for _ in range(200):
        text = transcripts.random_transcript(rng)
        assert text and text == transcripts.normalize_transcript(text)


def test_test_and_validation_voices_are_never_trained_on():
    variants = espeak.Synthesizer.get().variants
    split = speech.speaker_split(variants)
    assert sorted(sum(split.values(), [])) == sorted(variants)
    assert not set(split["train"]) & (set(split["test"]) | set(split["validation"]))
    assert len(split["test"]) >= 8 and len(split["validation"]) >= 3
    backwards = speech.speaker_split(list(reversed(variants)))  # by name, not by order
    assert all(set(split[part]) == set(backwards[part]) for part in split)


def test_spoken_numbers_is_deterministic_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_ZOO_CACHE", str(tmp_path))
    sizes = speech.SpokenNumbersSizes(6, 2, 3)
    first = speech.load_spoken_numbers(sizes, seed=3)
    (cache,) = tmp_path.glob("spoken-numbers-*.npz")
    again = speech.load_spoken_numbers(sizes, seed=3)  # read back from the cache
    for part in ("train", "validation", "test"):
        a, b = getattr(first, part), getattr(again, part)
        assert [u[1:] for u in a] == [u[1:] for u in b]
        assert all(
            np.array_equal(x[0], y[0]) and x[0].dtype == np.int16 for x, y in zip(a, b, strict=True)
        )
    test_voices = {u[2].split("+")[1] for u in first.test}
    assert test_voices <= set(speech.speaker_split(espeak.Synthesizer.get().variants)["test"])
    cache.write_bytes(b"damaged")  # a damaged cache is generated again
    assert [u[1] for u in speech.load_spoken_numbers(sizes, seed=3).train] == [
        u[1] for u in first.train
    ]
    other = speech.load_spoken_numbers(sizes, seed=4)
    assert [u[1] for u in other.train] != [u[1] for u in first.train]


def test_speech_folder_is_read_and_resampled(speech_dir):
    notes = []
    utterances = speech.read_speech_folder(speech_dir, notes)
    assert len(utterances) == 24
    assert notes == [f"resampled [8000] Hz audio in {speech_dir} to 16000 Hz"]
    audio, text, name = utterances[3]  # recorded at 8 kHz
    assert name == "u03.wav" and audio.dtype == np.int16 and len(audio) > 4000


def _mu_law_wav(path):
    """An 8-bit mu-law WAV (format 7): a WAV, but no PCM the zoo reads."""
    data = bytes(100)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 7, 1, 8000, 8000, 1, 8)
    path.write_bytes(header + b"data" + struct.pack("<I", len(data)) + data)


def test_bad_speech_data_is_named(tmp_path):
    with pytest.raises(DataFileError, match="has no transcripts.tsv"):
        speech.read_speech_folder(tmp_path)
    (tmp_path / "transcripts.tsv").write_text("a.wav\tseven\n")
    with pytest.raises(DataFileError, match="a.wav: no such WAV file"):
        speech.read_speech_folder(tmp_path)
    _mu_law_wav(tmp_path / "a.wav")
    with pytest.raises(
        DataFileError, match="a.wav is not a WAV file the zoo reads.*format 7.*ffmpeg"
    ):
        speech.read_speech_folder(tmp_path)
    (tmp_path / "a.wav").write_bytes(wav_bytes(np.zeros(0, np.int16)))
    with pytest.raises(DataFileError, match="holds no audio"):
        speech.read_speech_folder(tmp_path)
    (tmp_path / "a.wav").write_bytes(wav_bytes(np.ones(800, np.int16)))
    (tmp_path / "transcripts.tsv").write_text("a.wav\t...\n")
    with pytest.raises(DataFileError, match="line 1.*non-empty transcript"):
        speech.read_speech_folder(tmp_path)
    with pytest.raises(DataFileError, match="not a folder"):
        speech.read_speech_folder(tmp_path / "a.wav")
    with pytest.raises(DataFileError, match="Unknown speech dataset"):
        TASK.load_data("no-such-data", {"split_seed": 0})
    with pytest.raises(DataFileError, match="split by prompt text on its own"):
        TASK.load_data("asterisk-prompts", {"split_seed": 0}, validation="elsewhere")


def test_asterisk_prompts_or_the_apt_command():
    if not speech.ASTERISK_SOUNDS.is_dir():
        with pytest.raises(DataFileError, match="apt-get install"):
            speech.load_asterisk_prompts()
        return
    prompts = speech.load_asterisk_prompts()
    texts = {u[1] for u in prompts}
    assert {"seven", "twenty", "monday", "march", "b", "third"} <= texts
    assert all(u[0].dtype == np.int16 for u in prompts)
    corpus = TASK.load_data("asterisk-prompts", {"split_seed": 0})  # fine-tuning: by text
    tuned = {u[1] for u in corpus.train + corpus.validation}
    assert not tuned & {u[1] for u in corpus.test}
    assert abs(len(tuned) - len(texts) / 2) <= 1 and len(corpus.validation) >= 4


# -- front end ---------------------------------------------------------------------------------


def test_log_mel_frames_mask_and_padding_independence():
    layer = LogMelFeatures(16000, 20, floor_db=None, variance_floor=1e-5)
    rng = np.random.default_rng(0)
    short = rng.normal(0, 0.1, 3000).astype("float32")
    alone, mask_alone = layer(short[None], np.array([3000]))
    batch = np.zeros((2, 8000), "float32")
    batch[0, :3000] = short
    batch[1] = rng.normal(0, 0.1, 8000)
    padded, mask = layer(batch, np.array([3000, 8000]))
    assert to_numpy(layer.frames(np.array([3000, 8000]))).tolist() == [19, 51]
    assert padded.shape == (2, 51, 20) and to_numpy(mask).sum(axis=1).tolist() == [19, 51]
    # Normalization uses the utterance's own frames only, so batching changes its features
    # only through the last frames' windows, which reach past its end (zeros in a batch,
    # mirrored audio alone): a small shift of the statistics, not of the frames' content.
    np.testing.assert_allclose(to_numpy(padded)[0, :17], to_numpy(alone)[0, :17], atol=5e-2)
    real = to_numpy(padded)[1]
    np.testing.assert_allclose(real.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(real.std(axis=0), 1.0, atol=1e-2)
    assert np.all(to_numpy(padded)[0, 19:] == 0.0)


def telephone_like(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """Noise band-limited to 300-3,400 Hz plus rounding-level noise above: what 8 kHz audio
    resampled to 16 kHz holds."""
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    spectrum = np.fft.rfft(rng.normal(0, 0.1, n))
    hz = np.fft.rfftfreq(n, 1 / 16000)
    spectrum[(hz < 300) | (hz > 3400)] = 0
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / 800)  # 50 ms edges
    return (np.fft.irfft(spectrum, n) * fade + rng.normal(0, 2e-5, n)).astype("float32")


def test_log_mel_floors_by_hand():
    audio = telephone_like()[None]
    length = np.array([audio.shape[1]])
    layer = LogMelFeatures(16000, 20, floor_db=30.0, variance_floor=0.5)
    features, _ = layer(audio, length)
    mel = to_numpy(layer.spectrogram(audio)).T[:, :, 0]  # [frames, bins]
    log_mel = np.log(mel + 1e-6)
    log_mel = np.maximum(log_mel, log_mel.max() - 3.0 * np.log(10.0))  # 30 dB
    expected = (log_mel - log_mel.mean(0)) / np.sqrt(log_mel.var(0) + 0.5)
    np.testing.assert_allclose(to_numpy(features)[0], expected, atol=1e-4)


def test_log_mel_floors_keep_empty_bands_flat():
    audio = telephone_like()[None]
    length = np.array([audio.shape[1]])
    floored, _ = LogMelFeatures(16000, 40)(audio, length)
    plain, _ = LogMelFeatures(16000, 40, floor_db=None, variance_floor=1e-5)(audio, length)
    upper = slice(34, 40)  # mel bands above about 4.5 kHz: nothing but rounding noise
    assert to_numpy(plain)[0, :, upper].std(axis=0).min() > 0.9  # noise blown up to full scale
    assert to_numpy(floored)[0, :, upper].std(axis=0).max() < 0.05
    assert to_numpy(floored)[0, :, 10:25].std(axis=0).min() > 0.3  # the speech band kept


def test_log_mel_loads_old_configs_without_floors():
    config = LogMelFeatures(16000, 20).get_config()
    assert config["floor_db"] == 60.0 and config["variance_floor"] == 1.0
    old = {k: v for k, v in config.items() if k not in ("floor_db", "variance_floor")}
    restored = LogMelFeatures.from_config(old)
    assert restored.floor_db is None and restored.variance_floor == 1e-5
    assert LogMelFeatures.from_config(config).floor_db == 60.0
    with pytest.raises(ValueError, match="floor_db"):
        LogMelFeatures(16000, 20, floor_db=-3)


def test_spec_augment_masks_only_in_training():
    features = np.ones((3, 40, 16), "float32")
    layer = SpecAugment(frequency_masks=1, frequency_width=4, time_masks=1, time_width=5, seed=1)
    np.testing.assert_array_equal(to_numpy(layer(features)), features)
    out = to_numpy(layer(features, training=True))
    for row in out:
        zero_bins = np.where((row == 0).all(axis=0))[0]
        zero_frames = np.where((row == 0).all(axis=1))[0]
        assert len(zero_bins) <= 4 and len(zero_frames) <= 5
        assert np.all((row == 0) == (np.isin(np.arange(16), zero_bins)[None, :]
                                     | np.isin(np.arange(40), zero_frames)[:, None]))  # fmt: skip
    assert (out == 0).any()


def test_halving_concatenates_frame_pairs_and_their_mask():
    x = np.arange(10, dtype="float32").reshape(1, 5, 2)
    mask = np.array([[True, True, True, False, False]])
    halved, halved_mask = _halve(x, mask)
    np.testing.assert_array_equal(to_numpy(halved)[0], [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 0]])
    assert to_numpy(halved_mask).tolist() == [[True, True, False]]


# -- CTC loss and decoding --------------------------------------------------------------------


def test_ctc_loss_by_hand():
    """Two frames, the label `[5]` (then `</s>`, which CTC ignores): the paths are 5 5,
    5 blank and blank 5."""
    model = zoo.get("lstm_ctc_asr", vocab_size=6, units=4, num_mel_bins=8)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(1, 3, 6)).astype("float32")  # 3 frames, only 2 real
    audio_length = np.array([160 * 4], "int32")  # 5 mel frames -> 3 -> 2 encoder frames
    assert int(model.encoded_frames(audio_length)[0]) == 2
    loss = model.compute_loss({"audio_length": audio_length}, np.array([[5, 3, 0]]), logits)
    p = softmax(logits[0, :2])
    blank = 0
    expected = -math.log(p[0, 5] * p[1, 5] + p[0, 5] * p[1, blank] + p[0, blank] * p[1, 5])
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def _ctc_by_enumeration(probs, label):
    """-log p(label) summed over every frame path that collapses to it (repeats merged,
    then blanks dropped): the definition, for a few frames."""
    total = 0.0
    for path in itertools.product(range(probs.shape[1]), repeat=len(probs)):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        if [c for c in merged if c != 0] == list(label):
            total += math.prod(probs[t, c] for t, c in enumerate(path))
    return -math.log(total)


SMALL_LAS = {"units": 8, "num_mel_bins": 16, "speller_units": 16, "attention_units": 8}


def test_joint_ctc_term_by_enumeration():
    """The speller's CTC term, per character and averaged over the batch, from a linear layer
    over listener layer 1 (4x reduction); `<s>` and padding are not labels."""
    model = zoo.get("lstm_las_asr", **{**SMALL_LAS, "units": 2}, vocab_size=6, ctc_weight=0.5)
    assert model.ctc_layer == 1
    rng = np.random.default_rng(1)
    model.ctc_projection.set_weights([rng.normal(size=(4, 6)), rng.normal(size=6)])
    listened = rng.normal(size=(2, 4, 4)).astype("float32")  # 4 frames, 3 real
    audio_length = np.array([160 * 8, 160 * 8], "int32")  # 9 mel frames -> 5 -> 3
    assert list(to_numpy(model.encoded_frames(audio_length, layer=1))) == [3, 3]
    inputs = {"audio_length": audio_length, "target_in": np.array([[2, 5, 5, 0], [2, 4, 5, 0]])}
    loss = model._ctc_loss(listened, inputs)
    probs = softmax(listened @ model.ctc_projection.kernel.numpy() + model.ctc_projection.bias)
    expected = np.mean([_ctc_by_enumeration(probs[0, :3], [5, 5]) / 2,
                        _ctc_by_enumeration(probs[1, :3], [4, 5]) / 2])  # fmt: skip
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_joint_ctc_training_loss_is_the_weighted_sum():
    """Compiled by the speech task, the loss is 0.7 cross-entropy + 0.3 CTC term."""
    model = zoo.get("lstm_las_asr", **SMALL_LAS, vocab_size=7, ctc_weight=0.3)
    TASK.compile(model, {"learning_rate": 1e-3, "clipnorm": 1.0})
    rng = np.random.default_rng(0)
    x = {
        "audio": rng.normal(size=(2, 8000)).astype("float32"),
        "audio_length": np.array([8000, 6000], "int32"),
        "target_in": np.array([[2, 4, 5, 6], [2, 6, 0, 0]]),
    }
    y = np.array([[4, 5, 6, 3], [6, 3, 0, 0]])
    logits = model(x)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    ctc = model._ctc_loss(model.listen(x, tap=model.ctc_layer)[2][0], x)
    expected = 0.7 * float(cross_entropy(y, logits)) + 0.3 * float(ctc)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-4)
    assert zoo.get("lstm_las_asr", **SMALL_LAS, vocab_size=7).ctc_weight == 0.3  # the default
    assert zoo.get("lstm_las_asr", **SMALL_LAS, vocab_size=7, ctc_weight=0).ctc_projection is None
    for bad in (1.0, -0.1, True):
        with pytest.raises(ValueError, match="ctc_weight"):
            zoo.get("lstm_las_asr", **SMALL_LAS, vocab_size=7, ctc_weight=bad)


def test_pipeline_decodes_ids_to_text():
    pipeline = SpeechPipeline(Vocabulary(["<pad>", "<unk>", "<s>", "</s>", "a", "b", " "]))
    ids = tf.constant([[4, 6, 5, 3, 0], [5, 1, 4, -1, -1]])
    assert [t.decode() for t in pipeline.decode(ids).numpy()] == ["a b", "ba"]
    assert pipeline.ids("ab x") == [4, 5, 6, 1]


def test_speech_metrics_by_hand():
    m = speech_metrics(["seven", "one two", "b"], ["seven", "one three", "b c d"])
    assert m["count"] == 3 and m["exact_match"] == pytest.approx(1 / 3)
    assert m["wer"] == pytest.approx((0 + 1 + 2) / (1 + 2 + 3))
    assert set(m["by_length"]) == {"1", "2", "3-4"}
    assert m["by_length"]["1"]["cer"] == 0.0 and m["by_length"]["3-4"]["wer"] == pytest.approx(
        2 / 3
    )


# -- augmentation and resampling ----------------------------------------------------------------


def _tone(hz, seconds=0.5, rate=16000):
    return np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate).astype("float32")


def _peak_hz(x, rate=16000):
    return np.argmax(np.abs(np.fft.rfft(x))) * rate / len(x)


def test_band_limit_keeps_the_telephone_band():
    mixed = _tone(100) + _tone(1000) + _tone(5000)
    out = band_limit(tf.constant(mixed), 300.0, 3400.0, 16000).numpy()
    spectrum = np.abs(np.fft.rfft(out))
    hz = np.fft.rfftfreq(len(out), 1 / 16000)
    assert spectrum[np.argmin(abs(hz - 1000))] > 100 * spectrum[np.argmin(abs(hz - 100))]
    assert spectrum[np.argmin(abs(hz - 1000))] > 100 * spectrum[np.argmin(abs(hz - 5000))]


def test_rate_change_and_resampling_move_frequencies():
    faster = change_rate(tf.constant(_tone(500)), 1.1).numpy()
    assert len(faster) == int(8000 / 1.1) and _peak_hz(faster) == pytest.approx(550, abs=5)
    eight_k = _tone(440, rate=8000)
    up = resample_in_graph(tf.constant(eight_k), 8000, 16000).numpy()
    assert len(up) == 2 * len(eight_k) and _peak_hz(up) == pytest.approx(440, abs=3)
    same = resample_in_graph(tf.constant(eight_k), 16000, 16000).numpy()
    np.testing.assert_array_equal(same, eight_k)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000])
def test_the_graph_resamples_as_the_library_does(rate):
    # The export's resampler is scipy's resample_poly (the library's) written in TF ops.
    from scipy.signal import resample_poly

    signal = np.random.default_rng(rate).normal(0, 0.1, rate // 2 + 7).astype("float32")
    g = math.gcd(rate, 16000)
    expected = resample_poly(signal, 16000 // g, rate // g)
    out = resample_in_graph(tf.constant(signal), tf.constant(rate), 16000).numpy()
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_perturbation_is_deterministic_by_seed():
    x = tf.constant(_tone(300))
    seeds = [tf.constant([i, 7], tf.int64) for i in range(12)]
    outs = [perturb(x, s).numpy() for s in seeds]
    np.testing.assert_array_equal(outs[0], perturb(x, seeds[0]).numpy())
    assert all(np.isfinite(o).all() for o in outs)
    assert any(len(o) != len(x) for o in outs)  # some speed changes
    assert any(len(o) == len(x) and not np.allclose(o, x.numpy()) for o in outs)  # noise/band


# -- training, evaluation, prediction, export --------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(speech_dir, tmp_path_factory):
    return trained_once(tmp_path_factory, "speech", lambda runs: train(
        "lstm_las_asr", str(speech_dir), runs_root=runs, epochs=1, verbose=0, **TINY_LAS
    ))  # fmt: skip


def test_a_speech_run_writes_transcripts_metrics_and_alignments(trained_run):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["count"] == 2 and set(metrics) >= {"cer", "wer", "by_length", "exact_match"}
    rows = (trained_run / "test_transcripts.tsv").read_text().splitlines()
    assert rows[0] == "utterance\treference\ttranscript\tconfident" and len(rows) == 3
    assert set(metrics["confidence"]) == {"flagged_of_wrong", "flagged_of_right", "threshold"}
    assert (trained_run / "attention" / "example_0.png").is_file()
    assert (trained_run / "characters.txt").is_file()


def test_evaluate_scores_the_whole_folder_and_predict_reads_wavs(trained_run, speech_dir):
    out = subprocess.run(
        [sys.executable, "-m", "zoo.cli", "evaluate", str(trained_run), "--data", str(speech_dir)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "scored 24 examples" in out.stdout
    # A word list holds a barely trained speller to its words.
    words = ["one", "two", "three"]
    with_words = TASK.load_predictor(trained_run, beam_size=2, words=words)
    rows = TASK.predict(with_words, [str(speech_dir / f"u{i:02d}.wav") for i in range(4)])
    assert all(set(r["transcript"].split()) <= set(words) for r in rows), rows
    predictor = TASK.load_predictor(trained_run, beam_size=2)
    rows = TASK.predict(predictor, [str(speech_dir / "u00.wav"), str(speech_dir / "u03.wav")])
    assert [r["file"] for r in rows] == [str(speech_dir / f) for f in ("u00.wav", "u03.wav")]
    assert all(isinstance(r["transcript"], str) and r["log_prob"] <= 0 for r in rows)
    with pytest.raises(DataFileError, match="no such WAV file"):
        TASK.check_inputs([str(speech_dir / "missing.wav")])


EXPORT_CHECK = """
import json, sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
files = json.loads(sys.argv[2])
wavs = [open(f, "rb").read() for f in files]
out = loaded.signatures["serving_default"](wav=tf.constant(wavs))
texts = [t.decode() for t in out["transcript"].numpy()]
print(json.dumps([texts, out["confident"].numpy().tolist()]))
"""


# The default run exports the speller (beam search in the graph); the CTC twin with the slow
# tests (one model per task in the default run, as in test_export.py).
@pytest.mark.parametrize(
    "name", [pytest.param("lstm_ctc_asr", marks=pytest.mark.slow), "lstm_las_asr"]
)
def test_export_takes_wav_bytes_in_a_fresh_process(name, trained_run, speech_dir, tmp_path):
    if name == "lstm_las_asr":
        run = tmp_path / "run"  # a copy: its confidence threshold is set by hand below
        shutil.copytree(trained_run, run)
    else:
        run = train(name, str(speech_dir), runs_root=tmp_path, epochs=1, verbose=0, **TINY)
    files = [str(speech_dir / f"u{i:02d}.wav") for i in range(8)]  # u03 is 8 kHz
    # Clips shorter than the spectrogram's mirror padding (256 samples) crashed both before.
    for samples in (1, 200):
        clip = tmp_path / f"clip{samples}.wav"
        clip.write_bytes(wav_bytes(np.full(samples, 300, np.int16)))
        files.append(str(clip))
    # Widths TensorFlow's own decoder refuses: 8-bit, and 24-bit as sox writes it.
    speech, rate = read_wav(speech_dir / "u05.wav")
    for name, layout in (
        ("u05_8bit", {"bits": 8}),
        ("u05_24bit", {"bits": 24, "extensible": True}),
    ):
        converted = tmp_path / f"{name}.wav"
        converted.write_bytes(wav_file(speech / 32768.0, rate, **layout))
        files.append(str(converted))
    # Other rates: a 44.1 kHz copy of u05 (u03 is 8 kHz already).
    resampled = tmp_path / "u05_44k.wav"
    resampled.write_bytes(wav_bytes(resample(speech, 16000, 44100), 44100))
    files.append(str(resampled))
    # A threshold in the widest gap between the answers' log-probabilities per character:
    # some confident, and none so close to it that rounding in the export could flip it.
    rows = TASK.predict(TASK.load_predictor(run), files)
    per_character = sorted(r["log_prob"] / (len(r["transcript"]) + 1) for r in rows if r["speech"])
    _, low, high = max((b - a, a, b) for a, b in itertools.pairwise(per_character))
    threshold = (low + high) / 2
    (run / "confidence.json").write_text(json.dumps({"min_log_prob_per_character": threshold}))
    export_dir = zoo.export(run, root=tmp_path / "models")
    out = subprocess.run(
        [sys.executable, "-c", EXPORT_CHECK, str(export_dir), json.dumps(files)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    exported, confident = json.loads(out.stdout.strip().splitlines()[-1])
    rows = TASK.predict(TASK.load_predictor(run), files)
    # Every file, 8 and 44.1 kHz included: the graph resamples as the library does.
    assert exported == [r["transcript"] for r in rows]
    assert len(exported) == 13
    assert all(isinstance(t, str) for t in exported)
    assert confident == [r["confident"] for r in rows]
    assert 0 < sum(confident) < sum(r["speech"] for r in rows)  # the threshold splits them
    assert (export_dir / "assets.extra" / "tf_serving_warmup_requests").is_file()


def test_speech_settings_are_checked():
    with pytest.raises(ValueError, match="vocab_size"):
        train("lstm_ctc_asr", "spoken-numbers", vocab_size=30)
    with pytest.raises(ValueError, match="reductions"):
        zoo.get("lstm_ctc_asr", reductions=4)
    assert keras.saving.get_registered_object("lstm_zoo>LocationSensitiveAttention")


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    """400 utterances of one or two digit words in four voices."""

    def speak(folder):
        rng = np.random.default_rng(0)
        synth = espeak.Synthesizer.get()
        voices = ["en-us+m3", "en+f2", "en-us+Alex", "en-gb-x-rp+m1"]
        lines = []
        for i in range(400):
            text = " ".join(rng.choice(transcripts.ONES, size=int(rng.integers(1, 3))))
            rate, pitch = int(rng.integers(140, 200)), int(rng.integers(30, 70))
            (folder / f"d{i:03d}.wav").write_bytes(
                wav_bytes(synth.speak(text, voices[i % 4], rate, pitch))
            )
            lines.append(f"d{i:03d}.wav\t{text}\n")
        (folder / "transcripts.tsv").write_text("".join(lines), encoding="utf-8")
        return str(folder)

    return Path(made_once(tmp_path_factory, "digits", speak))


@pytest.mark.slow  # about a minute and a half each on a 2-core CPU
@pytest.mark.parametrize("name", ["lstm_ctc_asr", "lstm_las_asr"])
def test_both_recognizers_learn_digit_words(name, digits_dir, tmp_path):
    """Both models, small, learn ten words in 15 epochs: CER 3-4 % on held-out utterances when
    this test was written (an untrained model: ~100 %)."""
    extra = {"speller_units": 64, "attention_units": 32, "embedding_dim": 16}
    run = train(
        name, str(digits_dir), runs_root=tmp_path, epochs=15, verbose=0, units=64,
        num_layers=2, reductions=2, batch_size=16, learning_rate=3e-3, augment=False,
        attention_examples=1, **(extra if name == "lstm_las_asr" else {}),
    )  # fmt: skip
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["count"] == 20 and metrics["cer"] < 0.2, metrics


def test_synthesizer_without_its_library_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(espeak.Synthesizer, "_instance", None)
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)  # not installed
    with pytest.raises(DataFileError, match="pip install espeakng-loader"):
        espeak.Synthesizer.get()
    monkeypatch.delitem(sys.modules, "espeakng_loader")

    def broken(path):
        raise OSError(f"{path}: cannot open shared object file")

    monkeypatch.setattr(espeak.ctypes, "CDLL", broken)
    with pytest.raises(DataFileError, match="could not be loaded.*force-reinstall"):
        espeak.Synthesizer.get()


def numpy_log_mel(audio, rate=16000, bins=20, fft=512, window=400, hop=160, top=None):
    """Log-mel features the textbook way: centred frames (mirrored ends), periodic Hann window
    in the middle of each FFT frame, power spectrum, HTK mel triangles from 20 Hz to `top` Hz
    (Nyquist by default), log floored 60 dB below the peak, then zero mean per band, divided
    by the root of the band's variance + 1."""
    padded = np.pad(audio, fft // 2, mode="reflect")
    frames = 1 + (len(padded) - fft) // hop
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(window) / window)
    left = (fft - window) // 2
    taper = np.zeros(fft)
    taper[left : left + window] = hann
    power = np.stack(
        [np.abs(np.fft.rfft(padded[i * hop : i * hop + fft] * taper)) ** 2 for i in range(frames)]
    )

    def mel(hz):
        return 2595 * np.log10(1 + hz / 700)

    edges = np.linspace(mel(20.0), mel(top or rate / 2), bins + 2)
    linear = mel(np.linspace(0, rate / 2, fft // 2 + 1))
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(
        0,
        np.minimum(
            (linear[:, None] - lower) / (centre - lower),
            (upper - linear[:, None]) / (upper - centre),
        ),
    )
    weights[0] = 0.0  # the DC bin belongs to no band
    log_mel = np.log(power @ weights + 1e-6)
    log_mel = np.maximum(log_mel, log_mel.max() - 6 * np.log(10))
    return (log_mel - log_mel.mean(0)) / np.sqrt(log_mel.var(0) + 1.0)


def test_log_mel_features_match_a_numpy_reference():
    rng = np.random.default_rng(1)
    audio = np.sin(2 * np.pi * 440 * np.arange(6000) / 16000) * 0.3 + rng.normal(0, 0.05, 6000)
    features, _ = LogMelFeatures(16000, 20)(audio[None].astype("float32"), np.array([6000]))
    expected = numpy_log_mel(audio)
    assert features.shape == (1, *expected.shape)
    np.testing.assert_allclose(to_numpy(features)[0], expected, atol=2e-3)
    telephone, _ = LogMelFeatures(16000, 20, max_frequency=4000)(
        audio[None].astype("float32"), np.array([6000])
    )
    np.testing.assert_allclose(to_numpy(telephone)[0], numpy_log_mel(audio, top=4000), atol=2e-3)


def test_a_telephone_band_front_end_hears_8khz_audio_as_wideband():
    """With the mel bands below 4 kHz, the same speech-like sound through an 8 kHz channel and
    back gives nearly the features the wideband sound gives; with bands up to 8 kHz it does
    not (its upper bands lose their content)."""
    rng = np.random.default_rng(3)
    t = np.arange(16000) / 16000
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)  # syllable-like loudness changes
    tones = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((300, 900, 2200, 5500), 1))
    wideband = (envelope * (0.2 * tones + rng.normal(0, 0.05, t.size))).astype("float32")
    pcm = (wideband * 32767).astype(np.int16)
    narrowband = resample(resample(pcm, 16000, 8000), 8000, 16000).astype("float32") / 32767
    wideband = pcm.astype("float32") / 32767
    length = np.array([t.size])

    def gap(max_frequency):
        layer = LogMelFeatures(16000, 40, max_frequency=max_frequency)
        a, _ = layer(wideband[None], length)
        b, _ = layer(narrowband[None], length)
        return np.abs(to_numpy(a) - to_numpy(b)).mean()

    assert gap(4000) < 0.01 < 0.1 < gap(8000)
    with pytest.raises(ValueError, match="max_frequency"):
        LogMelFeatures(16000, 40, max_frequency=9000)


@pytest.mark.parametrize("name", ["lstm_ctc_asr", "lstm_las_asr"])
def test_recognizers_saved_before_the_floors_and_band_edge_load_as_trained(name):
    model = zoo.get(name, units=8, num_mel_bins=16, max_frequency=4000)
    config = model.get_config()
    assert config["max_frequency"] == 4000 and config["feature_floors"] is True
    assert type(model).from_config(config).features.max_frequency == 4000
    old = {k: v for k, v in config.items() if k not in ("feature_floors", "max_frequency")}
    restored = type(model).from_config(old)
    assert restored.features.max_frequency is None and restored.features.floor_db is None


# -- decoding through the recognizer, on scripted models ------------------------------------------

CHARS = Vocabulary(["<pad>", "<unk>", "<s>", "</s>", "a", "b", " "])


def voiced(samples):
    """A loud tone of `samples`, at least 0.1 s (what the no-speech check lets through), for
    scripted models whose frames the tests count: they read at most the frames they script."""
    return (8000 * np.sin(np.arange(max(samples, 1600)) / 5.0)).astype(np.int16)


class ScriptedCTC:
    """Per-frame logits fixed in advance; 160 samples per frame."""

    def __init__(self, logits):
        self.logits = tf.constant(logits, tf.float32)

    def encoded_frames(self, audio_length):
        return tf.cast(audio_length, tf.int32) // 160

    def __call__(self, inputs):
        return tf.repeat(self.logits, tf.shape(inputs["audio"])[0], axis=0)


def _frames(*rows):
    """Logits whose softmax puts the given probabilities on ids 0 (blank), 4 (a), 5 (b)."""
    out = np.full((1, len(rows), 7), -30.0, "float32")
    for t, (blank, a, b) in enumerate(rows):
        out[0, t, [0, 4, 5]] = np.log([blank, a, b])
    return out


def test_ctc_greedy_and_beam_decoding_on_scripted_posteriors():
    pipeline = SpeechPipeline(CHARS)
    # Greedy: a a blank a b -> "aab" (repeats merge, a blank separates).
    logits = _frames((0.1, 0.8, 0.1), (0.1, 0.8, 0.1), (0.8, 0.1, 0.1), (0.1, 0.8, 0.1),
                     (0.1, 0.1, 0.8))  # fmt: skip
    greedy = SpeechRecognizer(ScriptedCTC(logits), pipeline, beam_size=1)
    out = greedy.transcribe([voiced(5 * 160)], with_alignment=False)
    assert out["transcript"] == ["aab"]
    best_path = np.log([0.8, 0.8, 0.8, 0.8, 0.8]).sum()
    assert out["log_prob"][0] == pytest.approx(best_path, abs=1e-3)
    # Two frames where the best path (blank blank, 0.36) loses to the label "a", whose three
    # paths (a a, a blank, blank a) sum to 0.16 + 0.24 + 0.24 = 0.64: beam search finds "a".
    logits = _frames((0.6, 0.4, 1e-6), (0.6, 0.4, 1e-6))
    audio = [voiced(2 * 160)]
    assert SpeechRecognizer(ScriptedCTC(logits), pipeline, beam_size=1).transcribe(audio)[
        "transcript"
    ] == [""]
    beam = SpeechRecognizer(ScriptedCTC(logits), pipeline, beam_size=4).transcribe(audio)
    assert beam["transcript"] == ["a"] and beam["log_prob"][0] == pytest.approx(
        math.log(0.64), abs=1e-3
    )


class ScriptedSpeller:
    """A speller that says "ab a" then ends, whatever it hears: the recognizer's wiring."""

    target_vocab_size = 7
    script = [4, 5, 6, 4, 3]

    def encode(self, inputs):
        frames = tf.shape(inputs["audio"])[1] // 160
        mask = tf.ones([tf.shape(inputs["audio"])[0], frames], tf.bool)
        return (
            {"values": tf.zeros([tf.shape(mask)[0], frames, 1])},
            mask,
            [tf.zeros([tf.shape(mask)[0]], tf.int32)],
        )

    def decode_step(self, tokens, state, memory, memory_mask):
        step = state[0]
        wanted = tf.gather(tf.constant(self.script), tf.minimum(step, len(self.script) - 1))
        logits = tf.where(tf.one_hot(wanted, 7) > 0, 0.0, -20.0)
        return logits, [step + 1], tf.cast(memory_mask, tf.float32)


def test_speller_decoding_goes_through_the_zoos_beam_search():
    recognizer = SpeechRecognizer(ScriptedSpeller(), SpeechPipeline(CHARS), beam_size=3)
    out = recognizer.transcribe([voiced(10 * 160)] * 2)  # 10 frames of 160 samples
    assert out["transcript"] == ["ab a", "ab a"]
    assert out["alignment"].shape[:2] == (2, 30)  # at most 2 x 10 frames + 10 characters
    np.testing.assert_allclose(out["log_prob"], 5 * np.log(1 / (1 + 6 * np.exp(-20))), atol=1e-4)


def test_a_given_test_folder_leaves_validation_out_of_training(speech_dir):
    settings = {"split_seed": 0}
    corpus = TASK.load_data(str(speech_dir), settings, test=str(speech_dir))
    assert len(corpus.test) == 24  # the given folder, whole
    trained = {u[2] for u in corpus.train}
    assert len(corpus.validation) == 2 and not trained & {u[2] for u in corpus.validation}
    assert len(corpus.train) == 22
    both = TASK.load_data(str(speech_dir), settings, str(speech_dir), str(speech_dir))
    assert len(both.train) == 24  # nothing cut from the training folder


def test_a_clip_without_speech_gets_an_empty_answer_not_a_guess():
    from zoo.tasks.speech.predictor import has_speech

    rng = np.random.default_rng(0)
    loud = (8000 * np.sin(np.arange(8000) / 5.0)).astype(np.int16)  # half a second
    clips = {
        "silence": np.zeros(8000, np.int16),
        "dither": np.round(rng.normal(0, 3, 8000)).astype(np.int16),  # about -80 dBFS
        "50 ms of speech-loud sound": loud[:800],
        "a loud half second": loud,
    }
    audio, lengths = pad_waveforms(list(clips.values()))
    assert list(has_speech(tf.constant(audio), tf.constant(lengths), 16000).numpy()) == [
        False,
        False,
        False,
        True,
    ]
    recognizer = SpeechRecognizer(ScriptedSpeller(), SpeechPipeline(CHARS), beam_size=3)
    out = recognizer.transcribe(list(clips.values()), with_alignment=False)
    assert out["transcript"] == ["", "", "", "ab a"]  # the scripted speller's answer, if any
    assert list(out["speech"]) == [False, False, False, True]


def test_answers_below_the_calibrated_log_probability_are_not_confident():
    loud = (8000 * np.sin(np.arange(8000) / 5.0)).astype(np.int16)
    plain = SpeechRecognizer(ScriptedSpeller(), SpeechPipeline(CHARS), beam_size=3)
    out = plain.transcribe([loud, np.zeros(8000, np.int16)], with_alignment=False)
    assert list(out["confident"]) == [True, False]  # no threshold: speech is enough
    per_character = out["log_prob"][0] / (len("ab a") + 1)
    for margin, expected in ((-0.01, True), (0.01, False)):
        pipeline = SpeechPipeline(CHARS, min_log_prob=float(per_character + margin))
        recognizer = SpeechRecognizer(ScriptedSpeller(), pipeline, beam_size=3)
        out = recognizer.transcribe([loud, np.zeros(8000, np.int16)], with_alignment=False)
        assert list(out["confident"]) == [expected, False]


def test_the_confidence_threshold_is_a_percentile_of_the_right_answers():
    from zoo.tasks.speech.predictor import confidence_threshold

    # 21 right answers of 3 characters (4 with the end) at log-probs -4, -8, ..., -84, and one
    # wrong answer far lower, which must not count.
    texts = ["abc"] * 22
    log_probs = [-4.0 * (i + 1) for i in range(21)] + [-400.0]
    references = ["abc"] * 21 + ["xyz"]
    # per character: -1 ... -21; the 5th percentile of 21 values (linear): -21 + 0.05 * 20 = -20
    assert confidence_threshold(texts, log_probs, references) == pytest.approx(-20.0)
    assert confidence_threshold(texts[:19], log_probs[:19], references[:19]) is None


def test_a_calibrated_threshold_is_saved_with_the_pipeline(tmp_path):
    SpeechPipeline(CHARS, min_log_prob=-0.75).save(tmp_path)
    assert SpeechPipeline.load(tmp_path).min_log_prob == -0.75
    (tmp_path / "confidence.json").unlink()  # a run calibrated before the threshold existed
    assert SpeechPipeline.load(tmp_path).min_log_prob is None


def test_minutes_of_audio_are_refused_with_the_limit():
    recognizer = SpeechRecognizer(ScriptedSpeller(), SpeechPipeline(CHARS), beam_size=3)
    with pytest.raises(ValueError, match=r"Audio of 31.0 s is over the 30 s a recognizer takes"):
        recognizer.transcribe([np.zeros(31 * 16000, np.int16)])


def test_a_recognizer_fine_tuned_on_other_recordings_starts_from_its_weights(
    trained_run, speech_dir, tmp_path
):
    """`--init-from`, as the synthetic-to-real adaptation uses it: the new run reads the new
    recordings through the source's characters and features and starts from its weights."""
    recordings = tmp_path / "recordings"
    shutil.copytree(speech_dir, recordings)
    run = train("lstm_las_asr", str(recordings), runs_root=tmp_path, init_from=trained_run,
                epochs=1, learning_rate=1e-30, verbose=0)  # fmt: skip
    weights = [keras.saving.load_model(r / "model.keras", compile=False).get_weights()
               for r in (run, trained_run)]  # fmt: skip
    for tuned, source in zip(*weights, strict=True):
        np.testing.assert_array_equal(tuned, source)
    assert (
        json.loads((run / "config.json").read_text())["model_args"]
        == json.loads((trained_run / "config.json").read_text())["model_args"]
    )


def test_the_asterisk_recipes_listener_only_freezes_the_speller_not_the_listener():
    """`--listener-only`'s prefixes name layers `lstm_las_asr` has (a renamed layer would fail
    the recipe only after its data was read) and leave every listener weight trainable."""
    import importlib.util

    from zoo.fine_tuning import freeze

    path = Path(__file__).parents[1] / "recipes" / "asterisk_fine_tuning.py"
    spec = importlib.util.spec_from_file_location("asterisk_fine_tuning", path)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    model = zoo.get("lstm_las_asr", units=8, num_mel_bins=16)
    frozen = freeze(model, recipe.LISTENER_ONLY)
    assert {"speller_lstm", "attention", "character_embedding", "output_projection"} <= set(frozen)
    assert not any(layer.startswith("listener") for layer in frozen)
    assert all(w.trainable for w in model.get_layer("listener_bilstm_0").weights)
    assert not any(w.trainable for w in model.get_layer("speller_lstm").weights)


def test_a_word_list_keeps_the_speller_to_its_words(tmp_path):
    loud = (8000 * np.sin(np.arange(8000) / 5.0)).astype(np.int16)
    # The scripted speller wants "ab a"; with the words "ab" and "b" it may write "ab" (an
    # early </s>), "ab b" or "ab ab": one unwanted token (-20) each, so the longest ranks
    # best under the length penalty ((5 + length) / 6) ** 0.6.
    words = tmp_path / "words.txt"
    words.write_text("AB b\nab\n", encoding="utf-8")  # normalized, repeats dropped
    recognizer = SpeechRecognizer(ScriptedSpeller(), SpeechPipeline(CHARS), words=str(words))
    assert recognizer.words == ["ab", "b"]
    out = recognizer.transcribe([loud], with_alignment=False)
    assert out["transcript"] == ["ab ab"]
    assert out["log_prob"][0] == pytest.approx(-20.0, abs=1e-3)
    for bad, message in (
        (["abc"], r"1 words hold characters this run never wrote: 'abc' \(c\)"),
        (["", " "], "word list is empty"),
        (str(tmp_path / "missing.txt"), "No word list at"),
    ):
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            SpeechRecognizer(ScriptedSpeller(), SpeechPipeline(CHARS), words=bad)
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        SpeechRecognizer(ScriptedSpeller(), SpeechPipeline(CHARS), words=str(latin1))
    with pytest.raises(ValueError, match="applies to spellers"):
        SpeechRecognizer(ScriptedCTC(_frames((0.1, 0.8, 0.1))), SpeechPipeline(CHARS), words=["a"])


def test_compiled_steps_see_a_few_padded_shapes_that_hold_every_batch():
    rng = np.random.default_rng(0)
    utterances = [
        (np.zeros(int(n), np.int16), "ab a"[: int(k)], "v")
        for n, k in zip(rng.integers(4000, 40000, 200), rng.integers(1, 5, 200), strict=True)
    ]
    pipeline = SpeechPipeline(CHARS)
    audio_edges, target_edges = pipeline.padding_edges(utterances, 16, seed=0, stretched=True)
    assert 1 <= len(audio_edges) <= 8 and 1 <= len(target_edges) <= 4
    longest = max(len(u[0]) for u in utterances)
    assert audio_edges[-1] >= longest / 0.9  # the slowest speed perturbation still fits
    assert target_edges[-1] == 5  # "ab a" and </s>
    data = pipeline.dataset(
        utterances, 16, shuffle=True, augment=True, edges=(audio_edges, target_edges)
    )
    shapes = set()
    for inputs, target in data:
        shapes.add((inputs["audio"].shape[1], target.shape[1]))
        assert inputs["target_in"].shape == target.shape
    assert {a for a, _ in shapes} <= set(audio_edges) and {t for _, t in shapes} <= set(
        target_edges
    )


def test_a_compiled_search_gets_a_few_batch_shapes():
    from zoo.tasks.speech.predictor import padded_audio

    audio, lengths = pad_waveforms([np.full(n, 100 * n, np.int16) for n in (3, 5, 2)])
    padded, padded_lengths = padded_audio(audio, lengths, 4)
    assert padded.shape == (4, 8)  # rows: a power of two; columns: a multiple of the width
    np.testing.assert_array_equal(padded[:3, :5], audio)
    assert np.all(padded[:3, 5:] == 0)
    np.testing.assert_array_equal(padded[3, :5], audio[0])  # a copy of the first, dropped after
    assert padded_lengths.tolist() == [3, 5, 2, 3]
