"""Speech data: the synthetic `spoken-numbers` set, a user's WAV folder, the Asterisk prompts.

`spoken-numbers` is spoken by espeak-ng from the `espeakng-loader` wheel (library and voice data,
no system package), driven through `ctypes`: things phone systems ask for (numbers, digit
strings, dates, days, months, letters, the phonetic alphabet, yes / no), in many voices,
rates and pitches. Test and validation speakers are voice variants never used in training,
so the test measures how a model copes with new voices. The set is deterministic by seed and
cached on disk after the first generation.

Audio is kept as int16 at `SAMPLE_RATE`; other rates are resampled (polyphase, scipy) and the
reader says so.
"""

from __future__ import annotations

import csv
import ctypes
import gzip
import hashlib
import math
import os
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.data.tsv import DataFileError

SAMPLE_RATE = 16_000
SPOKEN_NUMBERS = "spoken-numbers"
ASTERISK = "asterisk-prompts"
SPEECH_DATASETS = (SPOKEN_NUMBERS, ASTERISK)
TRANSCRIPTS = "transcripts.tsv"

# -- transcripts --------------------------------------------------------------------------------

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINAL_ONES = [
    "_",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
]
ORDINAL_TEENS = [
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
ORDINAL_TENS = ["_", "_", "twentieth", "thirtieth"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
PHONETIC = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliett",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
ANSWERS = ["yes", "no", "star", "pound", "operator", "repeat", "cancel", "help"]


def number_words(n: int) -> str:
    """American English words of `0 <= n < 10000`: 312 -> "three hundred twelve"."""
    if not 0 <= n < 10_000:
        raise ValueError(f"number_words takes 0 <= n < 10000, received {n}.")
    if n < 10:
        return ONES[n]
    if n < 20:
        return TEENS[n - 10]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_words(n % 100)
        return f"{ONES[n // 100]} hundred{rest}"
    rest = "" if n % 1000 == 0 else " " + number_words(n % 1000)
    return f"{number_words(n // 1000)} thousand{rest}"


def ordinal_words(n: int) -> str:
    """The ordinal of a day of the month, `1 <= n <= 31`: 21 -> "twenty first"."""
    if not 1 <= n <= 31:
        raise ValueError(f"ordinal_words takes a day of the month 1..31, received {n}.")
    if n < 10:
        return ORDINAL_ONES[n]
    if n < 20:
        return ORDINAL_TEENS[n - 10]
    if n % 10 == 0:
        return ORDINAL_TENS[n // 10]
    return f"{TENS[n // 10]} {ORDINAL_ONES[n % 10]}"


def random_transcript(rng: np.random.Generator) -> str:
    """One phone-system answer: a number, digits, a date, a day, letters, a code word..."""
    kind = rng.choice(
        ["number", "digits", "date", "day", "month", "letters", "phonetic", "answer", "ordinal"],
        p=[0.2, 0.2, 0.15, 0.05, 0.05, 0.12, 0.1, 0.05, 0.08],
    )
    if kind == "number":
        n = int(
            rng.choice([rng.integers(0, 100), rng.integers(100, 1000), rng.integers(0, 10_000)])
        )
        return number_words(n)
    if kind == "digits":
        return " ".join(ONES[d] for d in rng.integers(0, 10, size=int(rng.integers(1, 8))))
    if kind == "date":
        return f"{rng.choice(MONTHS)} {ordinal_words(int(rng.integers(1, 32)))}"
    if kind == "day":
        return str(rng.choice(DAYS))
    if kind == "month":
        return str(rng.choice(MONTHS))
    if kind == "ordinal":
        return ordinal_words(int(rng.integers(1, 32)))
    if kind == "letters":
        return " ".join(rng.choice(LETTERS, size=int(rng.integers(1, 5))))
    if kind == "phonetic":
        return " ".join(rng.choice(PHONETIC, size=int(rng.integers(1, 4))))
    return str(rng.choice(ANSWERS))


def normalize_transcript(text: str) -> str:
    """Lower case, letters, digits, apostrophes and single spaces (what the models spell)."""
    text = re.sub(r"\[.*?\]", " ", text.lower())  # Asterisk notes like "dash [-]"
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


# -- espeak-ng ----------------------------------------------------------------------------------

ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc")
_RATE, _PITCH = 1, 3  # espeak_PARAMETER values
_SSML = 0x10  # espeak_Synth flag: the text is SSML (letters are spelled with say-as)
_SYNCHRONOUS = 2  # AUDIO_OUTPUT_SYNCHRONOUS: samples come back through the callback


class Synthesizer:
    """espeak-ng from the `espeakng-loader` wheel, speaking into numpy arrays.

    espeak-ng keeps one global state per process; this class initializes it once.
    """

    _CALLBACK = ctypes.CFUNCTYPE(
        ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
    )
    _instance: Synthesizer | None = None

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:
            raise DataFileError(
                "The spoken-numbers data is spoken by espeak-ng from the `espeakng-loader` "
                "package, which is not installed: pip install espeakng-loader (or "
                "`pip install -e .`, which lists it)."
            ) from None
        library = espeakng_loader.get_library_path()
        try:
            self.lib = ctypes.CDLL(str(library))
        except OSError as error:
            raise DataFileError(
                f"espeak-ng's library {library} could not be loaded ({error}); reinstall it: "
                "pip install --force-reinstall espeakng-loader."
            ) from None
        data_path = espeakng_loader.get_data_path()
        self.rate = self.lib.espeak_Initialize(_SYNCHRONOUS, 0, str(data_path).encode(), 0)
        if self.rate <= 0:
            raise RuntimeError(f"espeak-ng did not start (espeak_Initialize: {self.rate}).")
        self.variants = sorted(p.name for p in (Path(data_path) / "voices" / "!v").iterdir())
        self._chunks: list[np.ndarray] = []
        self._callback = self._CALLBACK(self._collect)  # kept alive as long as self
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> Synthesizer:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _collect(self, samples, count, events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, (count,)).copy())
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
        """int16 samples at `SAMPLE_RATE` of `text` spoken by `voice` ("en-us+m3")."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}.")
        self.lib.espeak_SetParameter(_RATE, rate, 0)
        self.lib.espeak_SetParameter(_PITCH, pitch, 0)
        words = [
            f"<say-as interpret-as='characters'>{w}</say-as>" if len(w) == 1 else w
            for w in text.split()
        ]
        ssml = f"<speak>{' '.join(words)}</speak>".encode()
        self._chunks = []
        self.lib.espeak_Synth(ssml, len(ssml) + 1, 0, 0, 0, _SSML, None, None)
        self.lib.espeak_Synchronize()
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return resample(audio, self.rate, SAMPLE_RATE)


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
    sizes: SpokenNumbersSizes = SpokenNumbersSizes(), seed: int = 0
) -> SpeechCorpus:
    """The synthetic corpus of `sizes` utterances, generated once and cached."""
    key = f"v1-{sizes.train}-{sizes.validation}-{sizes.test}-{seed}"
    path = cache_dir() / f"{SPOKEN_NUMBERS}-{key}.npz"
    if path.is_file():
        try:
            return _read_cache(path)
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)  # damaged: regenerated (another process may be first)
    corpus = generate_spoken_numbers(sizes, seed)
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


# -- audio files --------------------------------------------------------------------------------


def resample(audio: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """int16 `audio` from `rate` to `target` Hz (polyphase filter)."""
    if rate == target or len(audio) == 0:
        return audio.astype(np.int16)
    from scipy.signal import resample_poly

    g = math.gcd(rate, target)
    out = resample_poly(audio.astype(np.float32), target // g, rate // g)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(int16 mono samples, sample rate) of a PCM WAV file; errors name the file and the fix."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as f:
            width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
            frames = f.readframes(f.getnframes())
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such WAV file.") from None
    except (wave.Error, EOFError) as error:
        raise DataFileError(
            f"{path} is not a PCM WAV file ({error}); convert it, e.g. "
            f"`ffmpeg -i {path.name} -acodec pcm_s16le out.wav`."
        ) from None
    if width not in (1, 2, 4):
        raise DataFileError(f"{path}: {8 * width}-bit samples are not supported; use 16-bit PCM.")
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    samples = np.frombuffer(frames, dtype=dtype).astype(np.float64)
    if width == 1:
        samples = (samples - 128) * 256
    elif width == 4:
        samples = samples / 65536
    samples = samples[: len(samples) // channels * channels].reshape(-1, channels).mean(axis=1)
    if len(samples) == 0:
        raise DataFileError(f"{path} holds no audio (0 samples).")
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16), rate


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
    with open(table, encoding="utf-8", newline="") as f:
        for line_number, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if not row or (line_number == 1 and row[0].lower() in ("file", "path")):
                continue
            if len(row) < 2 or not normalize_transcript(row[1]):
                raise DataFileError(
                    f"{table}, line {line_number}: expected `file<TAB>transcript` with a "
                    f"non-empty transcript, received {row!r}."
                )
            audio, rate = read_wav(directory / row[0])
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


def load_asterisk_prompts() -> list:
    """The Asterisk prompts whose words the synthetic set speaks (digits, numbers, ordinals,
    days, months, letters, the phonetic alphabet): one real speaker, 8 kHz, resampled."""
    if not (ASTERISK_SOUNDS.is_dir() and ASTERISK_TEXT.is_file()):
        raise DataFileError(
            "The Asterisk prompts are not installed; they come from Debian packages: "
            f"{ASTERISK_APT}"
        )
    words = set(
        ONES + TEENS + TENS[2:] + ORDINAL_ONES[1:] + ORDINAL_TEENS + ORDINAL_TENS[2:]
        + DAYS + MONTHS + PHONETIC + LETTERS + ANSWERS + ["hundred", "thousand"]
    )  # fmt: skip
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
