"""Outputs spelled from a word list: the search may only write words of a lexicon, separated
by single separators, and may end only after a whole word.

A recognizer for a known domain (digits, commands, a phone menu's words) gains from it what
a pronunciation lexicon gives a classic recognizer: a near miss ("fourty") becomes the
closest word the model scores highest ("forty"). The lexicon is a character trie stored as a
transition table `int32[states, vocab_size]` (state 0: the start of a word; -1: not
allowed), so the search follows it with one gather per step, inside its compiled loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from zoo.data.vocabulary import BOS_ID, EOS_ID, PAD_ID

NOT_ALLOWED = -1
WORD_START = 0  # the state before a word's first token


def lexicon_table(words: Iterable[Sequence[int]], separator_id: int, vocab_size: int) -> np.ndarray:
    """The transition table of a lexicon of `words`, each a sequence of token ids.

    From a state, token `t` leads to `table[state, t]`; -1 means `t` may not come there. A
    state where a word is complete also allows `separator_id` (back to `WORD_START`) and
    `</s>`.

    Args:
        words: The words, as token ids (e.g. one id per character).
        separator_id: The token between two words (e.g. the space character's id).
        vocab_size: The model's output vocabulary size.

    Returns:
        `int32[states, vocab_size]`.
    """
    reserved = {PAD_ID, BOS_ID, EOS_ID, separator_id}
    children: list[dict[int, int]] = [{}]
    complete: set[int] = set()
    for word in words:
        word = list(word)
        if not word:
            raise ValueError("The lexicon has an empty word: give words of one token or more.")
        for token in word:
            if isinstance(token, bool) or not isinstance(token, int | np.integer):
                raise ValueError(f"Lexicon words are token ids, received {token!r}.")
            if not 0 <= token < vocab_size or token in reserved:
                raise ValueError(
                    f"A lexicon word may not hold token {token} (outside [0, {vocab_size}), a "
                    f"special token or the separator {separator_id}): {word}."
                )
        state = WORD_START
        for token in word:
            if token not in children[state]:
                children[state][token] = len(children)
                children.append({})
            state = children[state][token]
        complete.add(state)
    if not complete:
        raise ValueError("The lexicon is empty: give at least one word.")
    table = np.full((len(children), vocab_size), NOT_ALLOWED, np.int32)
    for state, edges in enumerate(children):
        for token, child in edges.items():
            table[state, token] = child
    for state in complete:
        table[state, separator_id] = WORD_START
        table[state, EOS_ID] = state
    return table


def check_lexicon(table, vocab_size: int):
    """Refuses a table that does not fit the model; returns it as `int32`."""
    table = np.asarray(table)
    if table.ndim != 2 or table.shape[1] != vocab_size or table.shape[0] < 1:
        raise ValueError(
            f"`lexicon` must be an int table [states, {vocab_size}] (see "
            f"`zoo.decoding.lexicon_table`), received shape {table.shape}."
        )
    return table.astype(np.int32)
