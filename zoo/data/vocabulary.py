"""Token vocabularies with the zoo's fixed special tokens, saved as one token per line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)


class Vocabulary:
    """An ordered token list whose first entries are `<pad>`, `<unk>`, `<s>`, `</s>`.

    Ids are positions in the list, so `<pad>` is 0 (what `mask_zero=True` embeddings mask).
    """

    def __init__(self, tokens: Iterable[str]):
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(
                f"A vocabulary must start with the special tokens {SPECIAL_TOKENS}, "
                f"received {tokens[:4]}."
            )
        if len(set(tokens)) != len(tokens):
            duplicates = sorted(t for t, n in Counter(tokens).items() if n > 1)
            raise ValueError(f"A vocabulary lists each token once; duplicated: {duplicates[:5]}.")
        self.tokens = tokens
        self._ids = {token: i for i, token in enumerate(tokens)}

    @classmethod
    def build(
        cls, sequences: Iterable[Iterable[str]], max_size: int | None = None, min_count: int = 1
    ) -> Vocabulary:
        """The most frequent tokens of `sequences` (ties broken alphabetically)."""
        counts = Counter(token for sequence in sequences for token in sequence)
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        ranked = sorted(
            (t for t, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t)
        )
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(SPECIAL_TOKENS))]
        return cls([*SPECIAL_TOKENS, *ranked])

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Vocabulary file {path} does not exist.")
        return cls(path.read_text(encoding="utf-8").split("\n")[:-1])

    def save(self, path: str | Path) -> None:
        if any("\n" in token for token in self.tokens):
            raise ValueError("Tokens containing a newline cannot be saved one per line.")
        Path(path).write_text("".join(t + "\n" for t in self.tokens), encoding="utf-8")

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def id(self, token: str) -> int:
        return self._ids.get(token, UNK_ID)
