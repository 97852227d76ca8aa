"""Speech's pipeline: the transcripts' characters, and training batches of waveforms with the
characters shifted right (`target_in`, for the speller) and followed by `</s>` (the target; a
CTC model drops the `</s>`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from zoo.data.padding import batch_maxima, choose_edges
from zoo.data.speech import (
    SAMPLE_RATE,
    SpeechCorpus,
)
from zoo.data.tokenization import pad_to_edge
from zoo.data.vocabulary import BOS_ID, EOS_ID, SPECIAL_TOKENS, Vocabulary
from zoo.tasks.speech.augmentation import MAX_STRETCH, perturb
from zoo.tasks.speech.settings import DEFAULT_AUGMENTATIONS

CHARACTERS = "characters.txt"
CONFIDENCE = "confidence.json"


@dataclass
class SpeechPipeline:
    """The character vocabulary (from the training transcripts), the audio rate, and the
    confidence threshold calibrated after training (`min_log_prob`: the least log-probability
    per output character of an answer called confident; `None` before calibration)."""

    characters: Vocabulary
    sample_rate: int = SAMPLE_RATE
    min_log_prob: float | None = None

    @classmethod
    def fit(cls, corpus: SpeechCorpus) -> SpeechPipeline:
        return cls(Vocabulary.build(list(text) for _, text, _ in corpus.train))

    def save(self, directory: str | Path) -> None:
        self.characters.save(Path(directory) / CHARACTERS)
        if self.min_log_prob is not None:
            threshold = {"min_log_prob_per_character": self.min_log_prob}
            (Path(directory) / CONFIDENCE).write_text(json.dumps(threshold) + "\n")

    @classmethod
    def load(cls, directory: str | Path) -> SpeechPipeline:
        confidence = Path(directory) / CONFIDENCE
        threshold = (
            json.loads(confidence.read_text())["min_log_prob_per_character"]
            if confidence.is_file()
            else None  # runs calibrated before the threshold existed
        )
        return cls(Vocabulary.load(Path(directory) / CHARACTERS), min_log_prob=threshold)

    def ids(self, text: str) -> list[int]:
        return [self.characters.id(c) for c in text]

    def decode(self, ids):
        """Transcripts (`tf.string[batch]`) of `int[batch, T]` character ids; specials and
        padding (CTC's -1 too) are left out."""
        table = tf.constant(
            ["" if t in SPECIAL_TOKENS else t for t in self.characters.tokens] + [""]
        )
        ids = tf.where(ids < 0, len(self.characters), tf.cast(ids, tf.int32))
        return tf.strings.reduce_join(tf.gather(table, ids), axis=-1)

    def padding_edges(
        self, utterances: list, batch_size: int, seed: int = 0, stretched: bool = False
    ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """For a compiled (XLA) step: the few audio lengths (samples) and target lengths
        (characters and `</s>`) batches of `utterances` are padded up to, chosen from the
        longest rows of simulated shuffled batches (`zoo.data.padding`). `stretched`: the
        audio may be slowed down by the speed perturbation, so its edges hold
        `MAX_STRETCH` times each length."""
        if not utterances:
            return (), ()
        stretch = MAX_STRETCH if stretched else 1.0
        lengths = np.array(
            [(int(np.ceil(len(u[0]) * stretch)), len(u[1]) + 1) for u in utterances], "int64"
        )
        maxima = batch_maxima(np.maximum(lengths, 1), batch_size, seed)
        return choose_edges(maxima[:, 0]), choose_edges(maxima[:, 1])

    def dataset(
        self,
        utterances: list,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        augment: bool = False,
        augmentations: Sequence[str] = DEFAULT_AUGMENTATIONS,
        edges: tuple[Sequence[int], Sequence[int]] = ((), ()),
    ) -> tf.data.Dataset:
        """`(inputs, target_out)` batches; `target_out` is the character ids and `</s>`. With
        `augment`, each waveform goes through `augmentations` (`perturb`'s kinds). Batches
        are padded to their longest row or, with `edges` (`padding_edges`: audio, target),
        up to the next edge."""
        audio = tf.RaggedTensor.from_row_lengths(
            np.concatenate([u[0] for u in utterances]).astype(np.float32) / 32768.0,
            [len(u[0]) for u in utterances],
        )
        targets = tf.ragged.constant([self.ids(u[1]) for u in utterances], dtype=tf.int32)
        data = tf.data.Dataset.from_tensor_slices((audio, targets))
        if shuffle:
            data = data.shuffle(len(utterances), seed=seed, reshuffle_each_iteration=True)
        kinds = tuple(augmentations)
        if augment and kinds:
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            data = tf.data.Dataset.zip((data, seeds)).map(
                lambda pair, s: (perturb(pair[0], s, self.sample_rate, kinds), pair[1]),
                num_parallel_calls=tf.data.AUTOTUNE,
            )

        def to_inputs(waveform, target):
            inputs = {
                "audio": waveform,
                "audio_length": tf.shape(waveform)[0],
                "target_in": tf.concat([[BOS_ID], target], 0),
            }
            return inputs, tf.concat([target, [EOS_ID]], 0)

        data = data.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE).padded_batch(batch_size)
        audio_edges, target_edges = (tuple(e) for e in edges)
        if audio_edges or target_edges:

            def to_edges(inputs, target_out):
                inputs = {
                    **inputs,
                    "audio": pad_to_edge(inputs["audio"], audio_edges),
                    "target_in": pad_to_edge(inputs["target_in"], target_edges),
                }
                return inputs, pad_to_edge(target_out, target_edges)

            data = data.map(to_edges)
        return data.prefetch(2)
