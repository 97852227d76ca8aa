"""What `spoken-numbers` says: the things phone systems ask for (numbers, digit strings, dates,
days, months, letters, the phonetic alphabet, yes / no) as words, drawn at random, and the
normalization every transcript goes through.
"""

from __future__ import annotations

import re

import numpy as np

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
# How a letter is read out, for synthesizers that would read a lone "a" as the article.
_NAMES = "ay bee see dee ee eff gee aitch eye jay kay ell em en oh pee cue are ess tee you vee"
LETTER_NAMES = dict(zip(LETTERS, [*_NAMES.split(), "double-you", "ex", "why", "zee"], strict=True))
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


def spoken_text(text: str) -> str:
    """`text` with its single letters written as their names ("b c" -> "bee see")."""
    return " ".join(LETTER_NAMES.get(word, word) for word in text.split())


KINDS = ("number", "digits", "date", "ordinal", "day or month", "letters", "phonetic", "answer")


def utterance_kind(text: str) -> str:
    """Which of `random_transcript`'s kinds `text` is (one of `KINDS`, or "other"); a single
    digit counts as a number."""
    words = text.split()
    ordinals = set(ORDINAL_ONES[1:] + ORDINAL_TEENS + ORDINAL_TENS[2:])
    if not words:
        return "other"
    if all(len(w) == 1 for w in words):
        return "letters"
    if all(w in PHONETIC for w in words):
        return "phonetic"
    if words[0] in MONTHS and len(words) > 1:
        return "date"
    if len(words) == 1 and words[0] in DAYS + MONTHS:
        return "day or month"
    if words[-1] in ordinals:
        return "ordinal"
    if len(words) > 1 and all(w in ONES for w in words):
        return "digits"
    if all(w in ONES + TEENS + TENS[2:] + ["hundred", "thousand"] for w in words):
        return "number"
    return "answer" if len(words) == 1 and words[0] in ANSWERS else "other"


def normalize_transcript(text: str) -> str:
    """Lower case, letters, digits, apostrophes and single spaces (what the models spell)."""
    text = re.sub(r"\[.*?\]", " ", text.lower())  # Asterisk notes like "dash [-]"
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def vocabulary_words() -> set[str]:
    """Every word a `spoken-numbers` transcript can hold."""
    return set(
        ONES + TEENS + TENS[2:] + ORDINAL_ONES[1:] + ORDINAL_TEENS + ORDINAL_TENS[2:]
        + DAYS + MONTHS + PHONETIC + LETTERS + ANSWERS + ["hundred", "thousand"]
    )  # fmt: skip
