"""Parallel text kept in memory, split deterministically into train / validation / test."""

from __future__ import annotations

import random
from dataclasses import dataclass

Pairs = list[tuple[str, str]]


@dataclass(frozen=True)
class ParallelCorpus:
    name: str
    train: Pairs
    validation: Pairs
    test: Pairs

    @classmethod
    def split(
        cls, name: str, pairs: Pairs, seed: int = 0, validation: float = 0.05, test: float = 0.05
    ) -> ParallelCorpus:
        """Dedupes by source (first one wins), shuffles with `seed`, cuts the two held-out sets."""
        unique = list(dict(reversed(pairs)).items())[::-1]
        random.Random(seed).shuffle(unique)
        n_val, n_test = round(len(unique) * validation), round(len(unique) * test)
        if len(unique) - n_val - n_test < 1 or n_val < 1 or n_test < 1:
            raise ValueError(
                f"Dataset {name!r} has {len(unique)} distinct source lines: too few to split into "
                "train, validation and test; provide at least 20 pairs."
            )
        return cls(
            name,
            train=unique[n_val + n_test :],
            validation=unique[:n_val],
            test=unique[n_val : n_val + n_test],
        )
