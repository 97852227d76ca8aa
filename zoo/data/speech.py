"""Speech data: the synthetic `spoken-numbers` set, a user's WAV folder, the Asterisk prompts.

`spoken-numbers` is spoken by espeak-ng (`zoo.data.espeak`): things phone systems ask for
(`zoo.data.transcripts`: numbers, digit strings, dates, days, months, letters, the phonetic
alphabet, yes / no), in many voices, rates and pitches. Test and validation speakers are voice
variants never used in training, so the test measures how a model copes with new voices. The
set is deterministic by seed and cached on disk after the first generation.

Audio is kept as int16 at `SAMPLE_RATE`; other rates are resampled (`zoo.data.audio`) and the
reader says so.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.data.audio import (  # noqa: F401  (read_wav: the API's name)
    SAMPLE_RATE,
    read_audio,
    read_wav,
    resample,
)
from zoo.data.espeak import ACCENTS, Synthesizer
from zoo.data.synthesizers import FAMILIES, synthesized, telephone_band
from zoo.data.transcripts import normalize_transcript, random_transcript, vocabulary_words
from zoo.data.tsv import DataFileError, read_utf8_text

SPOKEN_NUMBERS = "spoken-numbers"
ASTERISK = "asterisk-prompts"
# Test sets beside spoken-numbers' own: another synthesizer family's voices, and its espeak-ng
# test utterances through an 8 kHz telephone band.
SYNTHESIZER_TESTS = {f"{SPOKEN_NUMBERS}-{family}": family for family in FAMILIES}
TELEPHONE_TEST = f"{SPOKEN_NUMBERS}-8khz"
SPEECH_DATASETS = (SPOKEN_NUMBERS, ASTERISK, *SYNTHESIZER_TESTS, TELEPHONE_TEST)
TRANSCRIPTS = "transcripts.tsv"

# -- corpora ------------------------------------------------------------------------------------


@dataclass
class SpeechCorpus:
    """Utterances (int16 audio at `SAMPLE_RATE`, transcript, speaker) per split."""

    name: str
    train: list[tuple[np.ndarray, str, str]]
    validation: list[tuple[np.ndarray, str, str]]
    test: list[tuple[np.ndarray, str, str]]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SpokenNumbersSizes:
    train: int = 3000
    validation: int = 400
    test: int = 600


def speaker_split(variants: Sequence[str]) -> dict[str, list[str]]:
    """Voice variants for training, validation and test: fixed, whatever the seed, so every
    run is tested on the same unseen voices (one in six for test, one in twelve for
    validation, by a hash of the name)."""
    split: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for name in variants:
        bucket = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 12
        part = "test" if bucket < 2 else "validation" if bucket == 2 else "train"
        split[part].append(name)
    return split


def cache_dir() -> Path:
    """Where generated data is kept: `$LSTM_ZOO_CACHE`, else `~/.cache/lstm-zoo`."""
    return Path(os.environ.get("LSTM_ZOO_CACHE", Path.home() / ".cache" / "lstm-zoo"))


def load_spoken_numbers(
    sizes: SpokenNumbersSizes = SpokenNumbersSizes(),
    seed: int = 0,
    other_synthesizers: Sequence[str] = (),
    other_utterances: int = 0,
) -> SpeechCorpus:
    """The synthetic corpus of `sizes` espeak-ng utterances, and `other_utterances` more for
    training spoken by the `other_synthesizers` families' voices; generated once and cached."""
    key = f"v1-{sizes.train}-{sizes.validation}-{sizes.test}-{seed}"
    corpus = _cached(key, lambda: generate_spoken_numbers(sizes, seed))
    if other_utterances and other_synthesizers:
        families = sorted(other_synthesizers)
        key = f"{'+'.join(families)}-{other_utterances}-{seed}"
        extra = _cached(
            key, lambda: _train_only(synthesized(families, other_utterances, seed + 1, True))
        )
        corpus.train += extra.train
        corpus.notes.append(
            f"{other_utterances} of the training utterances are spoken by {' and '.join(families)}"
        )
    return corpus


def load_speech_test_set(
    name: str, sizes: SpokenNumbersSizes = SpokenNumbersSizes(), seed: int = 0
) -> list:
    """The test utterances of one of the generated sets (`SPEECH_DATASETS`, Asterisk aside)."""
    if name == TELEPHONE_TEST:
        return telephone_band(load_spoken_numbers(sizes, seed).test)
    if name in SYNTHESIZER_TESTS:
        family = SYNTHESIZER_TESTS[name]
        key = f"{family}-test-{sizes.test}-{seed}"
        # Another seed than training's: other transcripts, if a run trained on this family.
        return _cached(key, lambda: _train_only(synthesized([family], sizes.test, seed + 2))).train
    return load_spoken_numbers(sizes, seed).test


def _train_only(utterances: list) -> SpeechCorpus:
    return SpeechCorpus(SPOKEN_NUMBERS, utterances, [], [])


def _cached(key: str, make) -> SpeechCorpus:
    """The corpus cached under `key`, made by `make()` the first time."""
    path = cache_dir() / f"{SPOKEN_NUMBERS}-{key}.npz"
    if path.is_file():
        try:
            return _read_cache(path)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # damaged: regenerated (another process may be first)
    corpus = make()
    _write_cache(path, corpus)
    return corpus


def generate_spoken_numbers(sizes: SpokenNumbersSizes, seed: int) -> SpeechCorpus:
    synth = Synthesizer.get()
    voices = speaker_split(synth.variants)
    rng = np.random.default_rng(seed)
    parts = {}
    for part in ("train", "validation", "test"):
        utterances = []
        for _ in range(getattr(sizes, part)):
            text = random_transcript(rng)
            voice = f"{rng.choice(ACCENTS)}+{rng.choice(voices[part])}"
            rate, pitch = int(rng.integers(120, 231)), int(rng.integers(20, 81))
            utterances.append((synth.speak(text, voice, rate, pitch), text, voice))
        parts[part] = utterances
    return SpeechCorpus(SPOKEN_NUMBERS, **parts)


def _write_cache(path: Path, corpus: SpeechCorpus) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part in ("train", "validation", "test"):
        utterances = getattr(corpus, part)
        arrays[f"{part}_audio"] = np.concatenate([u[0] for u in utterances] or [np.zeros(0)])
        arrays[f"{part}_lengths"] = np.array([len(u[0]) for u in utterances], np.int64)
        arrays[f"{part}_text"] = np.array([u[1] for u in utterances])
        arrays[f"{part}_speaker"] = np.array([u[2] for u in utterances])
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(staging, "wb") as f:
        np.savez(f, **arrays)
    staging.replace(path)  # whole or not at all: two processes may generate at once


def _read_cache(path: Path) -> SpeechCorpus:
    parts = {}
    with np.load(path) as data:
        for part in ("train", "validation", "test"):
            audio = data[f"{part}_audio"].astype(np.int16)
            ends = np.cumsum(data[f"{part}_lengths"])
            pieces = np.split(audio, ends[:-1]) if len(ends) else []
            parts[part] = list(
                zip(
                    pieces,
                    data[f"{part}_text"].tolist(),
                    data[f"{part}_speaker"].tolist(),
                    strict=False,
                )
            )
    return SpeechCorpus(SPOKEN_NUMBERS, **parts)


def read_speech_folder(directory: str | Path, notes: list[str] | None = None) -> list:
    """`(audio, transcript, file)` of a folder with WAV files and a `transcripts.tsv`
    (`file<TAB>text` per line, no header needed)."""
    directory = Path(directory)
    table = directory / TRANSCRIPTS
    if not directory.is_dir():
        raise DataFileError(
            f"{directory} is not a folder; give a folder of WAV files with a {TRANSCRIPTS} "
            "(file<TAB>transcript per line)."
        )
    if not table.is_file():
        raise DataFileError(
            f"{directory} has no {TRANSCRIPTS}: write one line per recording, "
            "`file.wav<TAB>what is said`."
        )
    utterances, rates = [], set()
    rows = csv.reader(io.StringIO(read_utf8_text(table), newline=""), delimiter="\t")
    for line_number, row in enumerate(rows, start=1):
        if not row or (line_number == 1 and row[0].lower() in ("file", "path")):
            continue
        if len(row) < 2 or not normalize_transcript(row[1]):
            raise DataFileError(
                f"{table}, line {line_number}: expected `file<TAB>transcript` with a "
                f"non-empty transcript, received {row!r}."
            )
        audio, rate = read_audio(directory / row[0])
        rates.add(rate)
        utterances.append((resample(audio, rate), normalize_transcript(row[1]), row[0]))
    if not utterances:
        raise DataFileError(f"{table} lists no recordings.")
    other = sorted(r for r in rates if r != SAMPLE_RATE)
    if other and notes is not None:
        notes.append(f"resampled {other} Hz audio in {directory} to {SAMPLE_RATE} Hz")
    return utterances


def split_utterances(utterances: list, seed: int, name: str) -> SpeechCorpus:
    """A user's folder cut 90 / 5 / 5 (at least two utterances each held out, so that two
    replicas both get one) by `seed`."""
    if len(utterances) < 6:
        raise DataFileError(
            f"{name} holds {len(utterances)} recordings; at least 6 are needed to train "
            "(or give --validation-data and --test-data folders)."
        )
    order = np.random.default_rng(seed).permutation(len(utterances))
    held = max(2, len(utterances) // 20)
    pick = [utterances[i] for i in order]
    return SpeechCorpus(name, pick[2 * held :], pick[:held], pick[held : 2 * held])


# -- Asterisk prompts (real recordings) ----------------------------------------------------------

ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
ASTERISK_APT = (
    "apt-get install -y --no-install-recommends asterisk-core-sounds-en asterisk-core-sounds-en-wav"
)


def split_by_prompt(utterances: list, seed: int, name: str = ASTERISK) -> SpeechCorpus:
    """Half of the distinct texts to adapt on (about one in eight of them for validation),
    the other half to test: recordings of one text never end up on both sides."""
    texts = sorted({u[1] for u in utterances})
    if len(texts) < 4:
        raise DataFileError(f"{name} holds {len(texts)} distinct texts; 4 are needed to split.")
    order = np.random.default_rng(seed).permutation(len(texts))
    tune = {texts[i] for i in order[: len(texts) // 2]}
    validate = {texts[i] for i in order[: max(1, len(texts) // 16)]}
    return SpeechCorpus(
        name,
        [u for u in utterances if u[1] in tune - validate],
        [u for u in utterances if u[1] in validate],
        [u for u in utterances if u[1] not in tune],
    )


def load_asterisk_prompts() -> list:
    """The Asterisk prompts whose words the synthetic set speaks (digits, numbers, ordinals,
    days, months, letters, the phonetic alphabet): one real speaker, 8 kHz, resampled."""
    if not (ASTERISK_SOUNDS.is_dir() and ASTERISK_TEXT.is_file()):
        raise DataFileError(
            "The Asterisk prompts are not installed; they come from Debian packages: "
            f"{ASTERISK_APT}"
        )
    words = vocabulary_words()
    utterances = []
    with gzip.open(ASTERISK_TEXT, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            name, _, text = line.partition(":")
            if not name.startswith(("digits/", "letters/", "phonetic/")):
                continue
            text = normalize_transcript(text)
            wav = ASTERISK_SOUNDS / f"{name.strip()}.wav"
            if text and set(text.split()) <= words and wav.is_file():
                audio, rate = read_wav(wav)
                utterances.append((resample(audio, rate), text, name.strip()))
    return utterances
