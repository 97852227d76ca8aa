"""Speech beyond espeak-ng's voices: utterances of the same kind spoken by other synthesizer
families (flite, Festival), to train on more than one family or to test on one a model never
heard, and telephone-band copies of a test set (8 kHz and back).

Each set is deterministic by seed and cached on disk as `spoken-numbers` is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from zoo.data import festival, flite
from zoo.data.audio import SAMPLE_RATE, resample
from zoo.data.transcripts import random_transcript

# family: (voices, speak_all, whether it shifts pitch)
FAMILIES: dict[str, tuple[tuple[str, ...], Callable, bool]] = {
    "flite": (flite.VOICES, flite.speak_all, False),
    "festival": (festival.VOICES, festival.speak_all, True),
}
PITCH_SEMITONES = 4.0  # training voices are shifted up to this much, either way
TELEPHONE_RATE = 8_000


def check_families(families: Sequence[str]) -> None:
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ValueError(
            f"Unknown synthesizer {unknown}: the zoo speaks with espeak-ng and {sorted(FAMILIES)}."
        )


def synthesized(families: Sequence[str], count: int, seed: int, vary_pitch: bool = False) -> list:
    """`count` utterances `(int16 audio, transcript, "family:voice")`, each spoken by a voice
    drawn from all of `families`' voices, at 120-230 words per minute (espeak-ng's range);
    with `vary_pitch`, shifted up to `PITCH_SEMITONES` where the family can (more voices to
    train on; test sets keep the voices as they ship)."""
    check_families(families)
    rng = np.random.default_rng(seed)
    voices = [(family, voice) for family in families for voice in FAMILIES[family][0]]
    requests: dict[str, list] = {family: [] for family in families}
    order = []
    for _ in range(count):
        family, voice = voices[int(rng.integers(len(voices)))]
        text = random_transcript(rng)
        rate = int(rng.integers(120, 231))
        shift = float(rng.uniform(-PITCH_SEMITONES, PITCH_SEMITONES))  # drawn either way
        requests[family].append(
            (text, voice, rate, shift if vary_pitch and FAMILIES[family][2] else 0.0)
        )
        order.append((family, len(requests[family]) - 1))
    spoken = {family: FAMILIES[family][1](asked) for family, asked in requests.items() if asked}
    return [
        (spoken[family][i], requests[family][i][0], f"{family}:{requests[family][i][1]}")
        for family, i in order
    ]


def telephone_band(utterances: list) -> list:
    """The utterances as an 8 kHz telephone line would carry them, read back at 16 kHz (what
    `zoo evaluate` does with 8 kHz WAV files)."""
    return [
        (resample(resample(audio, SAMPLE_RATE, TELEPHONE_RATE), TELEPHONE_RATE), text, who)
        for audio, text, who in utterances
    ]
