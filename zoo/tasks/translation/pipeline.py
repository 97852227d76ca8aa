"""Translation's text pipeline: how both sides' text becomes ids, for training, `predict` and
inside the exported SavedModel alike (the same TensorFlow functions, so the three cannot drift
apart), and the batches `fit` reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.data.padding import PaddingPlan, plan_padding
from zoo.data.placeholders import Placeholders
from zoo.data.subwords import SUBWORD_LEVELS, SubwordCodec
from zoo.data.tokenization import LEVELS as WORD_LEVELS
from zoo.data.tokenization import WordCodec, pad_to_edge
from zoo.data.vocabulary import BOS_ID, EOS_ID, Vocabulary
from zoo.runs import read_json
from zoo.tasks.translation.settings import TOKEN_LEVELS

TEXT_CONFIG = "text.json"

Codec = WordCodec | SubwordCodec


class EmptyInputError(ValueError):
    """An empty (or whitespace-only) text was given where a sentence is needed."""


def fit_codec(
    texts: list[str],
    level: str,
    lowercase: bool,
    max_vocab_size: int,
    min_count: int,
    seed: int,
    keep_whitespace: bool = False,
) -> Codec:
    """A word/char vocabulary or a SentencePiece model of `texts`."""
    if level in SUBWORD_LEVELS:
        if min_count != 1:
            raise ValueError(
                f"`min_count` applies to word and char vocabularies; a {level} (SentencePiece) "
                "vocabulary is sized by `max_vocab_size` alone. Leave min_count at 1."
            )
        return SubwordCodec.fit(texts, level, lowercase, max_vocab_size, seed, keep_whitespace)
    if level not in WORD_LEVELS:
        raise ValueError(f"`token_level` must be one of {TOKEN_LEVELS}, received {level!r}.")
    return WordCodec.fit(texts, level, lowercase, max_vocab_size, min_count, keep_whitespace)


def load_codec(directory: Path, config: dict, side: str) -> Codec:
    if config["level"] in SUBWORD_LEVELS:
        return SubwordCodec.load(directory, config)
    return WordCodec.load(directory, {"vocabulary": f"{side}_vocab.txt", **config})


@dataclass
class TextPipeline:
    """How both sides' text becomes ids (a `WordCodec` or `SubwordCodec` each), how long a
    source may be, and which placeholders are copied exactly (`zoo.data.placeholders`; `None`:
    none). With a joint vocabulary, `source` and `target` are the same codec."""

    source: Codec
    target: Codec
    max_source_length: int = 200
    placeholders: Placeholders | None = None

    @property
    def joint(self) -> bool:
        return self.source is self.target

    @property
    def source_vocab(self) -> Vocabulary:
        return self.source.vocabulary

    @property
    def target_vocab(self) -> Vocabulary:
        return self.target.vocabulary

    @classmethod
    def fit(
        cls,
        pairs: list[tuple[str, str]],
        level: str = "char",
        lowercase: bool = False,
        max_vocab_size: int = 16_000,
        max_source_length: int = 200,
        min_count: int = 1,
        max_target_vocab_size: int | None = None,
        joint_vocabulary: bool = False,
        seed: int = 0,
        placeholders: list[str] | None = None,
        keep_whitespace: bool = False,
    ) -> TextPipeline:
        """Fits both sides on training pairs.

        Args:
            level: `"char"`, `"word"`, or a SentencePiece model: `"unigram"` or `"bpe"`.
            max_vocab_size: The most tokens (specials included) of each side's vocabulary.
            max_target_vocab_size: The target side's, if it differs.
            joint_vocabulary: One vocabulary fitted on both sides, used by both.
            seed: SentencePiece's sampling seed.
            placeholders: Placeholder patterns to copy exactly (names of
                `zoo.data.placeholders.PATTERNS` or RE2 expressions); `None` or `[]`: none.
            keep_whitespace: Keep runs of whitespace (char and subword levels).
        """
        masker = Placeholders(placeholders) if placeholders else None
        if masker is not None:
            pairs = masker.mask_pairs(pairs)
        sources, targets = [s for s, _ in pairs], [t for _, t in pairs]

        def fit(texts: list[str], size: int) -> Codec:
            return fit_codec(texts, level, lowercase, size, min_count, seed, keep_whitespace)

        if joint_vocabulary:
            if max_target_vocab_size not in (None, max_vocab_size):
                raise ValueError(
                    "A joint vocabulary has one size: set `max_vocab_size`, not "
                    "`max_target_vocab_size`."
                )
            codec = fit(sources + targets, max_vocab_size)
            return cls(codec, codec, max_source_length, masker)
        return cls(
            fit(sources, max_vocab_size),
            fit(targets, max_target_vocab_size or max_vocab_size),
            max_source_length,
            masker,
        )

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        source = self.source.save(directory, "source")
        config = {
            "source": source,
            "target": source if self.joint else self.target.save(directory, "target"),
            "joint": self.joint,
            "max_source_length": self.max_source_length,
            "placeholders": self.placeholders.get_config() if self.placeholders else [],
        }
        (directory / TEXT_CONFIG).write_text(json.dumps(config, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> TextPipeline:
        directory = Path(directory)
        config = read_json(directory / TEXT_CONFIG)
        source = load_codec(directory, config["source"], "source")
        joint = config.get("joint", False)
        target = source if joint else load_codec(directory, config["target"], "target")
        patterns = config.get("placeholders")  # runs from before placeholders: none
        masker = Placeholders(patterns) if patterns else None
        return cls(source, target, config["max_source_length"], masker)

    @property
    def resources(self) -> list:
        """The lookup tables / tokenizer models an export tracks."""
        return self.source.resources + ([] if self.joint else self.target.resources)

    def masked(self, texts) -> tf.Tensor:
        """Source texts with their placeholders masked (as they are if there are none)."""
        if self.placeholders is None:
            return texts
        return self.placeholders.mask(texts)[0]

    def mask_pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Training pairs with their placeholders masked (`zoo.data.placeholders`)."""
        return pairs if self.placeholders is None else self.placeholders.mask_pairs(pairs)

    def restore(self, translations, sources) -> tf.Tensor:
        """Each translation with the masks of its source's placeholders replaced by them."""
        if self.placeholders is None:
            return translations
        found = self.placeholders.mask(sources)[1]
        return self.placeholders.restore(translations, found)

    def restore_tokens(self, tokens: tf.RaggedTensor, sources) -> tf.RaggedTensor:
        """Tokens (of sources or translations) with their masks replaced, to show."""
        if self.placeholders is None:
            return tokens
        found = self.placeholders.mask(sources)[1]
        return self.placeholders.restore_tokens(tokens, found)

    def source_tokens(self, texts) -> tf.RaggedTensor:
        return self.source.pieces(self.masked(texts))[:, : self.max_source_length]

    def encode_source(self, texts) -> tf.Tensor:
        """`string[batch]` -> `int32[batch, Ts]`, 0-padded."""
        return self.source_ids(texts).to_tensor()

    def source_ids(self, texts) -> tf.RaggedTensor:
        return self.source.encode(self.masked(texts))[:, : self.max_source_length]

    def encode_target(self, texts) -> tuple[tf.Tensor, tf.Tensor]:
        """`string[batch]` -> decoder inputs (`<s>` + ids) and outputs (ids + `</s>`)."""
        ids = self.target.encode(texts)
        eos = tf.RaggedTensor.from_tensor(tf.fill([ids.nrows(), 1], EOS_ID))
        target_out = tf.concat([ids, eos], axis=1).to_tensor()
        bos = tf.fill([tf.shape(target_out)[0], 1], BOS_ID)
        target_in = tf.concat([bos, target_out[:, :-1]], axis=1)
        return target_in, target_out

    def decode_target(self, ids) -> tf.Tensor:
        return self.target.decode(ids)

    def target_pieces(self, ids) -> tf.Tensor:
        return self.target.id_to_piece(ids)

    def lengths(self, pairs: list[tuple[str, str]], batch: int = 4096) -> np.ndarray:
        """`int[len(pairs), 2]`: each pair's source and target length in tokens (no `</s>`)."""
        return self._token_lengths(self.mask_pairs(pairs), batch)

    def _token_lengths(self, pairs: list[tuple[str, str]], batch: int = 4096) -> np.ndarray:
        """`lengths` of pairs already masked."""
        out = []
        for start in range(0, len(pairs), batch):
            chunk = pairs[start : start + batch]
            sources = self.source.encode([s for s, _ in chunk]).row_lengths()
            targets = self.target.encode([t for _, t in chunk]).row_lengths()
            out.append(np.stack([sources.numpy(), targets.numpy()], axis=1))
        return np.concatenate(out) if out else np.zeros([0, 2], "int64")

    def target_counts(self, texts: list[str], batch: int = 4096) -> np.ndarray:
        """`int[target vocabulary]`: how often each id is a decoder output for `texts`
        (their tokens and one `</s>` each)."""
        counts = np.zeros(len(self.target_vocab), "int64")
        for start in range(0, len(texts), batch):
            ids = self.target.encode(texts[start : start + batch]).flat_values.numpy()
            counts += np.bincount(ids, minlength=len(counts))
        counts[EOS_ID] += len(texts)
        return counts

    def padding_plan(
        self,
        pairs: list[tuple[str, str]],
        batch_size: int,
        bucket_by_length: bool = False,
        compiled: bool = False,
        seed: int = 0,
    ) -> PaddingPlan:
        """How `dataset` should batch and pad `pairs`, chosen from their lengths
        (`zoo.data.padding`): similar-length buckets if asked, and for a compiled step the
        few lengths each side is padded up to."""
        lengths = np.zeros([0, 2], "int64")
        if compiled:  # only a compiled step's edges come from the lengths (a tokenizing pass)
            lengths = self.lengths(pairs) + [0, 1]  # the target with its <s> / </s>
            lengths[:, 0] = np.minimum(lengths[:, 0], self.max_source_length)
        return plan_padding(lengths, batch_size, bucket_by_length, compiled, seed)

    def dataset(
        self,
        pairs: list[tuple[str, str]],
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        padding: PaddingPlan | None = None,
    ) -> tf.data.Dataset:
        """`(inputs, target_out, sample_weight)` batches; padding has weight 0.

        `padding` (`padding_plan`) batches pairs of similar length together (its buckets)
        and pads each side up to its edges, so that a compiled (XLA) step sees a few shapes
        instead of one per batch; without it each batch is padded to its longest row.
        """
        padding = padding or PaddingPlan()

        def to_ids(source, target):
            target_in, target_out = (
                pad_to_edge(ids, padding.target_edges) for ids in self.encode_target(target)
            )
            source = pad_to_edge(self.encode_source(source), padding.source_edges)
            return (
                {"source": source, "target_in": target_in},
                target_out,
                tf.cast(target_out != 0, tf.float32),
            )

        pairs = self.mask_pairs(pairs)
        columns = ([s for s, _ in pairs], [t for _, t in pairs])
        if padding.buckets:
            lengths = self._token_lengths(pairs) + [0, 1]  # the target with its </s>
            columns += (lengths.max(axis=1).astype("int32"),)
        data = tf.data.Dataset.from_tensor_slices(columns)
        if shuffle:
            data = data.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
        if padding.buckets:
            boundaries = [edge + 1 for edge in padding.buckets]  # length <= edge
            data = data.bucket_by_sequence_length(
                lambda source, target, length: length,
                bucket_boundaries=boundaries,
                bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            ).map(lambda source, target, length: (source, target))
            # Each bucket ends with a short batch; stating the count spares Keras a dataset
            # of unknown length (its "ran out of data" warning, a progress bar without total).
            sizes = np.bincount(np.digitize(columns[2], boundaries), minlength=len(boundaries) + 1)
            batches = int(np.sum(-(-sizes // batch_size)))
            data = data.apply(tf.data.experimental.assert_cardinality(batches))
        else:
            data = data.batch(batch_size)
        return data.map(to_ids, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def length_filter(
    text: TextPipeline, pairs: list[tuple[str, str]], max_source: int, max_target: int
) -> tuple[list[tuple[str, str]], int]:
    """`(pairs within the limits, how many were dropped)`; a limit of 0 is no limit."""
    if not max_source and not max_target or not pairs:
        return pairs, 0
    lengths = text.lengths(pairs)
    keep = np.ones(len(pairs), bool)
    if max_source:
        keep &= lengths[:, 0] <= max_source
    if max_target:
        keep &= lengths[:, 1] <= max_target
    return [pair for pair, k in zip(pairs, keep, strict=True) if k], int((~keep).sum())
