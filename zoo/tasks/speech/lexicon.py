"""The words a speller may write (`--words FILE`): a word list read, checked against the
run's characters, and turned into the search's transition table (`zoo.decoding.lexicon`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.data.transcripts import normalize_transcript
from zoo.decoding.lexicon import lexicon_table
from zoo.tasks.speech.pipeline import SpeechPipeline

SEPARATOR = " "


def read_words(source: str | Path | Sequence[str]) -> list[str]:
    """The distinct words of a word list: a file (whitespace-separated, UTF-8) or a sequence
    of strings, each normalized as transcripts are (lower case, no punctuation)."""
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No word list at {path}: give a UTF-8 text file of words.")
        try:
            source = path.read_text(encoding="utf-8").split()
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{path} is not UTF-8 text (byte {error.start}): save the word list as UTF-8."
            ) from None
    words: list[str] = []
    for item in source:
        if not isinstance(item, str):
            raise ValueError(f"Words are strings, received {item!r}.")
        words += [w for w in normalize_transcript(item).split() if w not in words]
    if not words:
        raise ValueError("The word list is empty: give at least one word.")
    return words


def speller_lexicon(pipeline: SpeechPipeline, words: Sequence[str]) -> np.ndarray:
    """The transition table of `words` over the run's characters, words separated by a
    space; refuses words with characters the run never saw."""
    known = set(pipeline.characters.tokens)
    unknown = {w: sorted(set(w) - known) for w in words if set(w) - known}
    if unknown:
        shown = ", ".join(f"{w!r} ({''.join(c)})" for w, c in list(unknown.items())[:5])
        raise ValueError(
            f"{len(unknown)} words hold characters this run never wrote: {shown}. Remove them "
            "from the word list; the recognizer can only spell with its own characters."
        )
    return lexicon_table(
        [pipeline.ids(w) for w in words],
        separator_id=pipeline.characters.id(SEPARATOR),
        vocab_size=len(pipeline.characters),
    )
