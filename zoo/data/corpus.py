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
        cls,
        name: str,
        pairs: Pairs,
        seed: int = 0,
        validation: float = 0.05,
        test: float = 0.05,
        *,
        validation_pairs: Pairs | None = None,
        test_pairs: Pairs | None = None,
    ) -> ParallelCorpus:
        """Dedupes by source (first one wins), shuffles with `seed`, cuts the two held-out sets.

        A held-out set given as `validation_pairs` / `test_pairs` (the user's own file) is
        used as it is and not cut from `pairs`; given both, `pairs` is all training data.
        """
        if validation_pairs is not None and test_pairs is not None:
            return cls(name, train=list(pairs), validation=validation_pairs, test=test_pairs)
        unique = list(dict(reversed(pairs)).items())[::-1]
        random.Random(seed).shuffle(unique)
        n_val = 0 if validation_pairs is not None else round(len(unique) * validation)
        n_test = 0 if test_pairs is not None else round(len(unique) * test)
        too_few = (validation_pairs is None and n_val < 1) or (test_pairs is None and n_test < 1)
        if len(unique) - n_val - n_test < 1 or too_few:
            raise ValueError(
                f"Dataset {name!r} has {len(unique)} distinct source lines: too few to split into "
                "train, validation and test; provide at least 20 pairs."
            )
        return cls(
            name,
            train=unique[n_val + n_test :],
            validation=validation_pairs if validation_pairs is not None else unique[:n_val],
            test=test_pairs if test_pairs is not None else unique[n_val : n_val + n_test],
        )
