"""Speech beyond espeak-ng: other synthesizer families, the telephone band, the split of the
Asterisk prompts by text, and kinds of utterance."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from zoo.data import festival, flite, speech, synthesizers
from zoo.data.transcripts import spoken_text, utterance_kind
from zoo.data.tsv import DataFileError
from zoo.tasks.speech.task import TASK


def fake_family(rate_log: list):
    """A synthesizer family whose 'speech' is a tone as many samples long as the text has
    characters x 100 / rate, so tests know what each request gave."""

    def speak_all(requests):
        rate_log.append(list(requests))
        return [np.full(len(text) * 100 * 150 // r, 1000, np.int16) for text, _, r, _ in requests]

    return (("one", "two"), speak_all, True)


def test_synthesized_draws_voices_from_every_family_deterministically(monkeypatch):
    calls = []
    monkeypatch.setitem(synthesizers.FAMILIES, "alpha", fake_family(calls))
    monkeypatch.setitem(synthesizers.FAMILIES, "beta", fake_family(calls))
    first = synthesizers.synthesized(["alpha", "beta"], 40, seed=5)
    assert len(calls) == 2  # one batch per family
    assert len(first) == 40
    assert {u[2] for u in first} == {"alpha:one", "alpha:two", "beta:one", "beta:two"}
    for audio, text, _ in first:  # each utterance is the audio of its own request
        rates = [r for batch in calls for t, _, r, _ in batch if t == text]
        assert any(len(audio) == len(text) * 100 * 150 // r for r in rates)
        assert all(120 <= r <= 230 for r in rates)
    assert {shift for batch in calls for *_, shift in batch} == {0.0}  # test sets: as shipped
    again = synthesizers.synthesized(["alpha", "beta"], 40, seed=5, vary_pitch=True)
    assert [u[1:] for u in again] == [u[1:] for u in first]
    shifts = [shift for batch in calls[2:] for *_, shift in batch]
    assert max(shifts) > 2 and min(shifts) < -2 and max(map(abs, shifts)) <= 4
    with pytest.raises(ValueError, match="Unknown synthesizer"):
        synthesizers.synthesized(["gamma"], 3, seed=0)


def test_other_synthesizers_join_only_the_training_set_and_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_ZOO_CACHE", str(tmp_path))
    calls = []
    monkeypatch.setitem(synthesizers.FAMILIES, "alpha", fake_family(calls))
    sizes = speech.SpokenNumbersSizes(6, 2, 3)
    plain = speech.load_spoken_numbers(sizes, seed=3)
    mixed = speech.load_spoken_numbers(sizes, 3, other_synthesizers=["alpha"], other_utterances=5)
    assert [u[1] for u in mixed.train[:6]] == [u[1] for u in plain.train]
    assert [u[2].split(":")[0] for u in mixed.train[6:]] == ["alpha"] * 5
    assert [u[1] for u in mixed.test] == [u[1] for u in plain.test]  # espeak's voices only
    assert mixed.notes == ["5 of the training utterances are spoken by alpha"]
    again = speech.load_spoken_numbers(sizes, 3, other_synthesizers=["alpha"], other_utterances=5)
    assert len(calls) == 1  # read back from the cache
    assert [u[1] for u in again.train] == [u[1] for u in mixed.train]


def test_telephone_band_removes_everything_above_4_khz():
    rng = np.random.default_rng(0)
    audio = (rng.normal(0, 3000, 16000)).astype(np.int16)
    ((band, text, who),) = synthesizers.telephone_band([(audio, "yes", "v")])
    assert (text, who) == ("yes", "v") and band.dtype == np.int16 and len(band) == 16000
    spectrum = np.abs(np.fft.rfft(band.astype(float)))
    hz = np.fft.rfftfreq(16000, 1 / 16000)
    below, above = spectrum[hz < 3500].mean(), spectrum[hz > 4300].mean()
    assert above < below / 100


def test_the_asterisk_prompts_are_split_by_text():
    silence = np.zeros(10, np.int16)
    prompts = [(silence, text, f"{text}-{i}") for i in range(2) for text in "abcdefgh"]
    prompts += [(silence, "a", "a-again")]
    corpus = speech.split_by_prompt(prompts, seed=1)
    texts = [{u[1] for u in getattr(corpus, part)} for part in ("train", "validation", "test")]
    assert not (texts[0] | texts[1]) & texts[2]  # a text is adapted on or tested, never both
    assert not texts[0] & texts[1]
    assert len(texts[0] | texts[1]) == 4 and len(texts[2]) == 4
    assert len(corpus.train) + len(corpus.validation) + len(corpus.test) == len(prompts)
    assert speech.split_by_prompt(prompts, seed=1).test == corpus.test
    with pytest.raises(DataFileError, match="4 are needed"):
        speech.split_by_prompt(prompts[:3], seed=0)


def test_generated_test_sets_are_refused_for_training():
    for name in ("spoken-numbers-flite", "spoken-numbers-8khz"):
        with pytest.raises(DataFileError, match="test set only"):
            TASK.load_data(name, {"split_seed": 0})


def test_kinds_of_utterance():
    cases = {
        "five": "number",
        "three hundred twelve": "number",
        "four one five": "digits",
        "march twenty first": "date",
        "twenty first": "ordinal",
        "monday": "day or month",
        "b z": "letters",
        "alpha golf": "phonetic",
        "operator": "answer",
        "hello there": "other",
    }
    assert {text: utterance_kind(text) for text in cases} == cases
    assert spoken_text("b seven w") == "bee seven double-you"


def test_a_missing_synthesizer_names_the_install_script(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    for family in (flite, festival):
        with pytest.raises(DataFileError, match="install_speech_data.sh"):
            family.speak_all([("yes", family.VOICES[0], 175, 0.0)])


@pytest.mark.parametrize("family", [flite, festival], ids=["flite", "festival"])
def test_each_voice_speaks_slower_at_a_lower_rate(family):
    if shutil.which(family.__name__.rsplit(".", 1)[1]) is None:
        pytest.skip(f"{family.__name__} is not installed (scripts/install_speech_data.sh)")
    requests = [(text, voice, rate, 0.0) for voice in family.VOICES for text, rate in
                (("march twenty first", 120), ("march twenty first", 230))]  # fmt: skip
    audio = family.speak_all(requests)
    assert all(a.dtype == np.int16 and np.abs(a).max() > 1000 for a in audio)
    for slow, fast in zip(audio[::2], audio[1::2], strict=True):
        assert 1.3 < len(slow) / len(fast) < 2.5  # 230 / 120 = 1.9


def median_pitch(audio: np.ndarray, rate: int = 16000) -> float:
    """Median autocorrelation pitch (60-400 Hz) of the loud 64 ms frames."""
    pitches = []
    for start in range(0, len(audio) - 1024, 512):
        frame = audio[start : start + 1024].astype(float)
        if np.abs(frame).mean() < 500:
            continue
        correlation = np.correlate(frame, frame, "full")[1023:]
        low, high = rate // 400, rate // 60
        pitches.append(rate / (low + np.argmax(correlation[low:high])))
    return float(np.median(pitches))


@pytest.mark.skipif(shutil.which("festival") is None, reason="Festival is not installed")
def test_festival_diphone_voices_shift_their_pitch():
    for voice in ("kal_diphone", "ked_diphone"):
        plain, higher = festival.speak_all(
            [("march twenty first", voice, 175, 0.0), ("march twenty first", voice, 175, 4.0)]
        )
        ratio = median_pitch(higher) / median_pitch(plain)
        assert 1.1 < ratio < 1.5, (voice, ratio)  # 4 semitones: 1.26
