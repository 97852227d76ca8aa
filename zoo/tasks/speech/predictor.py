"""Recognizers: a trained `CTCRecognizer` or `ListenAttendSpell` with its pipeline
(`SpeechRecognizer`), and an exported SavedModel answering the same way
(`ExportedRecognizer`). Both take raw audio.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import decoding
from zoo.data.padding import choose_edges, padded_to
from zoo.decoding.compiled import backend_compiled
from zoo.models.speech import BLANK_ID
from zoo.tasks.speech.lexicon import read_words, speller_lexicon
from zoo.tasks.speech.pipeline import SpeechPipeline

# Knowing when there is nothing to transcribe: a clip whose loudest 25 ms frame is below
# NO_SPEECH_DBFS (silence, hum, dither), or that is shorter than MIN_SPEECH_SECONDS (no word
# is), is answered with an empty transcript and `speech` false, instead of a confident guess.
NO_SPEECH_DBFS = -50.0
MIN_SPEECH_SECONDS = 0.1
# The models learn from utterances of a few seconds; minutes of audio get a clear refusal.
MAX_SECONDS = 30.0
# Knowing when it may be wrong: an answer is `confident` when its log-probability per output
# character (the end included) is at least the run's threshold, calibrated after training as
# this percentile of the exactly-right validation answers' (so about 95 % of right answers
# pass; what share of wrong ones is flagged is measured, per source, in the speech guide).
CONFIDENCE_PERCENTILE = 5.0


class SpeechRecognizer:
    """A trained recognizer with its characters: waveforms in, transcripts out.

    CTC models decode with `keras.ops.ctc_decode` (greedy for `beam_size=1`, else beam
    search); the speller with `zoo.decoding.beam_search`. Clips without speech get an empty
    transcript (`speech` false), clips over `MAX_SECONDS` are refused, and answers below the
    pipeline's confidence threshold are marked (`confident` false; see
    `CONFIDENCE_PERCENTILE`). Given `words`, the speller writes only those words
    (`zoo.tasks.speech.lexicon`); CTC models take no word list.
    """

    task_name = "speech"  # what `zoo.export` exports it as

    def __init__(
        self,
        model: keras.Model,
        pipeline: SpeechPipeline,
        beam_size: int = 4,
        length_penalty: float = 0.6,
        words: Sequence[str] | None = None,
    ):
        self.model = model
        self.pipeline = pipeline
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.attends = hasattr(model, "decode_step")
        self.words = None if words is None else read_words(words)
        self.lexicon = None
        if self.words is not None:
            if not self.attends:
                raise ValueError(
                    "A word list applies to spellers (lstm_las_asr): a CTC model's search "
                    "does not take one. Leave out --words."
                )
            self.lexicon = speller_lexicon(pipeline, self.words)
        if keras.backend.backend() == "tensorflow":
            spec = [tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None], tf.int32)]
            self._runs = {
                flag: tf.function(
                    lambda audio, length, flag=flag: self.run(audio, length, flag),
                    input_signature=spec,
                    autograph=False,  # as the export traces it; rewriting the search took ~3 s
                )
                for flag in (True, False)
            }
        else:  # the model in the backend's own compiled function, the rest in TF, eagerly
            self._searches = {
                flag: backend_compiled(
                    lambda audio, length, flag=flag: self.search(audio, length, flag)
                )
                for flag in (True, False)
            }

    def run(self, audio, audio_length, with_alignment: bool = True):
        """The graph every prediction goes through on TensorFlow (also the export's)."""
        rate = self.pipeline.sample_rate
        longest = tf.cast(tf.reduce_max(tf.concat([audio_length, [0]], 0)), tf.float32) / rate
        check = tf.debugging.Assert(
            longest <= MAX_SECONDS,
            ["Audio over", MAX_SECONDS, "s (the longest is", longest, "s): split it into "
             "utterances (e.g. `sox in.wav out.wav trim 0 10 : newfile : restart`)."],
        )  # fmt: skip
        with tf.control_dependencies([check]):
            audio = tf.identity(audio)
        return self.finish(self.search(audio, audio_length, with_alignment), audio, audio_length)

    def finish(self, out: dict, audio, audio_length) -> dict:
        """The search's tokens as transcripts, with `speech` and `confident` (TensorFlow ops:
        in the graph, or eagerly after another backend's search)."""
        out = dict(out)
        out["transcript"] = self.pipeline.decode(out.pop("tokens"))
        speech = has_speech(audio, audio_length, self.pipeline.sample_rate)
        out["transcript"] = tf.where(speech, out["transcript"], "")
        out["speech"] = speech
        out["confident"] = speech
        if self.pipeline.min_log_prob is not None:
            per_character = out["log_prob"] / tf.cast(
                tf.strings.length(out["transcript"], unit="UTF8_CHAR") + 1, tf.float32
            )
            out["confident"] = speech & (per_character >= self.pipeline.min_log_prob)
        return out

    def search(self, audio, audio_length, with_alignment: bool) -> dict:
        """`{"tokens", "log_prob"}` (and `"alignment"`) of `float32[batch, samples]` audio,
        in `keras.ops`: the part any backend compiles."""
        inputs = {"audio": audio, "audio_length": audio_length}
        if self.attends:
            result = decoding.beam_search(
                self.model,
                inputs,
                beam_size=self.beam_size,
                length_penalty=self.length_penalty,
                max_length_ratio=2.0,
                max_length_offset=10,
                return_attention=with_alignment,
                lexicon=self.lexicon,
            )
            out = {"tokens": result.tokens, "log_prob": result.log_prob}
            if with_alignment:
                out["alignment"] = ops.cast(result.attention, "float32")
            return out
        log_probs = ops.log_softmax(ops.cast(self.model(inputs), "float32"))
        frames = ops.minimum(self.model.encoded_frames(audio_length), ops.shape(log_probs)[1])
        strategy = "greedy" if self.beam_size == 1 else "beam_search"
        tokens, scores = ops.ctc_decode(
            log_probs, frames, strategy=strategy, beam_width=self.beam_size, mask_index=BLANK_ID
        )
        log_prob = -scores[:, 0] if strategy == "greedy" else scores[:, 0]
        out = {"tokens": tokens[0], "log_prob": log_prob}
        if with_alignment:
            out["alignment"] = ops.exp(log_probs)  # per-frame posteriors
        return out

    def transcribe(
        self, waveforms: Sequence[np.ndarray], with_alignment: bool = True, width: int = 0
    ) -> dict:
        """Transcripts of int16 waveforms at the model's rate. Off TensorFlow the audio is
        padded to `width` samples (or the next half second), and the batch to a power of two
        rows: the few shapes the compiled search compiles for."""
        audio, lengths = pad_waveforms(waveforms)
        longest = lengths.max(initial=0) / self.pipeline.sample_rate
        if longest > MAX_SECONDS:
            raise ValueError(
                f"Audio of {longest:.1f} s is over the {MAX_SECONDS:.0f} s a recognizer takes: "
                "split it into utterances (e.g. `sox in.wav out.wav trim 0 10 : newfile : "
                "restart`)."
            )
        if keras.backend.backend() == "tensorflow":
            out = self._runs[with_alignment](tf.constant(audio), tf.constant(lengths))
        else:
            padded, padded_lengths = padded_audio(
                audio, lengths, width or self.pipeline.sample_rate // 2
            )
            searched = self._searches[with_alignment](padded, padded_lengths)
            searched = {k: ops.convert_to_numpy(v)[: len(lengths)] for k, v in searched.items()}
            out = self.finish(searched, tf.constant(audio), tf.constant(lengths))
        result = {key: np.asarray(value) for key, value in out.items()}
        result["transcript"] = [t.decode("utf-8") for t in result["transcript"]]
        return result

    def transcribe_all(self, waveforms: Sequence[np.ndarray], batch_size: int = 64) -> list:
        return self.transcribe_scored(waveforms, batch_size)["transcript"]

    def transcribe_scored(self, waveforms: Sequence[np.ndarray], batch_size: int = 64) -> dict:
        """`{"transcript", "log_prob", "confident"}` lists of many waveforms, in batches."""
        order = np.argsort([len(w) for w in waveforms])  # similar lengths: less padding
        keys = ("transcript", "log_prob", "confident")
        out: dict[str, list] = {key: [None] * len(waveforms) for key in keys}
        starts = range(0, len(order), batch_size)
        # Off TensorFlow: a few widths, chosen from the batches' longest clips.
        longest = [
            max(1, len(waveforms[order[min(s + batch_size, len(order)) - 1]])) for s in starts
        ]
        edges = choose_edges(longest) if keras.backend.backend() != "tensorflow" else ()
        for start in starts:
            chunk = order[start : start + batch_size]
            width = padded_to(len(waveforms[chunk[-1]]), edges) if edges else 0
            result = self.transcribe([waveforms[i] for i in chunk], False, width)
            for key in keys:
                for i, value in zip(chunk, result[key], strict=True):
                    out[key][i] = value
        return out


def confidence_threshold(
    transcripts: Sequence[str], log_probs: Sequence[float], references: Sequence[str]
) -> float | None:
    """The `CONFIDENCE_PERCENTILE`th percentile of the log-probability per character (the end
    included) of the transcripts that are exactly right; `None` with fewer than 20 of them."""
    right = [
        log_prob / (len(text) + 1)
        for text, log_prob, reference in zip(transcripts, log_probs, references, strict=True)
        if text == reference
    ]
    return float(np.percentile(right, CONFIDENCE_PERCENTILE)) if len(right) >= 20 else None


def has_speech(audio, audio_length, rate: int):
    """`bool[batch]`: whether each clip is long enough for a word and has a frame (25 ms, every
    10 ms) louder than `NO_SPEECH_DBFS`; `audio` is `float32[batch, samples]` in [-1, 1]."""
    frame, step = rate * 25 // 1000, rate * 10 // 1000
    width = tf.shape(audio)[1]
    padded = tf.pad(audio, [[0, 0], [0, tf.maximum(frame - width, 0)]])
    frames = tf.signal.frame(padded, frame, step)  # [batch, frames, samples]
    starts = tf.range(tf.shape(frames)[1]) * step
    inside = starts[None, :] + frame <= tf.maximum(audio_length, frame)[:, None]
    power = tf.reduce_mean(tf.square(frames), axis=-1)
    loudest = tf.reduce_max(tf.where(inside, power, 0.0), axis=1)
    decibels = 10.0 * tf.math.log(loudest + 1e-20) / tf.math.log(10.0)
    long_enough = tf.cast(audio_length, tf.float32) >= MIN_SPEECH_SECONDS * rate
    return tf.logical_and(long_enough, decibels > NO_SPEECH_DBFS)


def padded_audio(
    audio: np.ndarray, lengths: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of audio for a compiled search: columns padded with zeros up to a multiple of
    `width`, rows to a power of two (copies of the first, dropped afterwards)."""
    batch, columns = audio.shape
    rows = 1 << max(batch - 1, 0).bit_length()
    padded = np.zeros((rows, columns + -columns % width), np.float32)
    padded[:batch, :columns] = audio
    padded[batch:, :columns] = audio[:1]
    return padded, np.concatenate([lengths, np.repeat(lengths[:1], rows - batch)])


def pad_waveforms(waveforms: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """`(float32[batch, longest] in [-1, 1], int32[batch] lengths)` of int16 waveforms."""
    lengths = np.array([len(w) for w in waveforms], np.int32)
    audio = np.zeros((len(waveforms), max(1, int(lengths.max(initial=0)))), np.float32)
    for i, w in enumerate(waveforms):
        audio[i, : len(w)] = np.asarray(w, np.float32) / 32768.0
    return audio, lengths


class ExportedRecognizer:
    """A speech SavedModel queried through its `waveform` signature."""

    def __init__(self, loaded: Any):
        self.loaded = loaded

    def transcribe_all(self, waveforms: Sequence[np.ndarray], batch_size: int = 64) -> list:
        return self.transcribe_scored(waveforms, batch_size)["transcript"]

    def transcribe_scored(self, waveforms: Sequence[np.ndarray], batch_size: int = 64) -> dict:
        out: dict[str, list] = {"transcript": [], "log_prob": [], "confident": []}
        for start in range(0, len(waveforms), batch_size):
            audio, lengths = pad_waveforms(waveforms[start : start + batch_size])
            result = self.loaded.signatures["waveform"](
                audio=tf.constant(audio), audio_length=tf.constant(lengths)
            )
            out["transcript"] += [t.decode("utf-8") for t in result["transcript"].numpy()]
            out["log_prob"] += result["log_prob"].numpy().tolist()
            # Exports made before the threshold: every answer with speech counts as confident.
            confident = result.get("confident", result.get("speech"))
            out["confident"] += (
                confident.numpy().tolist() if confident is not None else [True] * len(audio)
            )
        return out

    def transcribe_wav(self, contents: list[bytes]) -> dict:
        result = self.loaded.signatures["serving_default"](wav=tf.constant(contents))
        # Exports made before the no-speech check answer every clip.
        speech = result["speech"].numpy() if "speech" in result else [True] * len(contents)
        return {
            "transcript": [t.decode("utf-8") for t in result["transcript"].numpy()],
            "log_prob": result["log_prob"].numpy(),
            "speech": speech,
            # Exports made before the threshold: every answer with speech counts as confident.
            "confident": result["confident"].numpy() if "confident" in result else speech,
        }
