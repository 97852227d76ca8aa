"""Speech recognition as a task: audio and characters in, CER / WER by length out.

Training batches carry waveforms (`audio`, `audio_length`), the characters shifted right
(`target_in`, for the speller) and the characters followed by `</s>` (the target; a CTC model
drops the `</s>`). Training audio is augmented on the fly (noise, speed, telephone band);
SpecAugment runs inside the model. Predictors and the export take raw audio: 16-bit PCM WAV
bytes (decoded and resampled inside the graph) or float waveforms at the model's rate.
"""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo import decoding, plots
from zoo.data.speech import (
    ASTERISK,
    SAMPLE_RATE,
    SPEECH_DATASETS,
    SPOKEN_NUMBERS,
    SpeechCorpus,
    SpokenNumbersSizes,
    load_asterisk_prompts,
    load_spoken_numbers,
    read_speech_folder,
    read_wav,
    resample,
    split_utterances,
)
from zoo.data.tsv import DataFileError
from zoo.data.vocabulary import BOS_ID, EOS_ID, SPECIAL_TOKENS, Vocabulary
from zoo.metrics import speech_metrics
from zoo.models.speech import BLANK_ID
from zoo.tasks.base import Task, write_table
from zoo.tasks.settings import SPEECH

CHARACTERS = "characters.txt"


@dataclass
class SpeechPipeline:
    """The character vocabulary (from the training transcripts) and the audio rate."""

    characters: Vocabulary
    sample_rate: int = SAMPLE_RATE

    @classmethod
    def fit(cls, corpus: SpeechCorpus) -> SpeechPipeline:
        return cls(Vocabulary.build(list(text) for _, text, _ in corpus.train))

    def save(self, directory: str | Path) -> None:
        self.characters.save(Path(directory) / CHARACTERS)

    @classmethod
    def load(cls, directory: str | Path) -> SpeechPipeline:
        return cls(Vocabulary.load(Path(directory) / CHARACTERS))

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

    def dataset(
        self,
        utterances: list,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        augment: bool = False,
    ) -> tf.data.Dataset:
        """`(inputs, target_out)` batches; `target_out` is the character ids and `</s>`."""
        audio = tf.RaggedTensor.from_row_lengths(
            np.concatenate([u[0] for u in utterances]).astype(np.float32) / 32768.0,
            [len(u[0]) for u in utterances],
        )
        targets = tf.ragged.constant([self.ids(u[1]) for u in utterances], dtype=tf.int32)
        data = tf.data.Dataset.from_tensor_slices((audio, targets))
        if shuffle:
            data = data.shuffle(len(utterances), seed=seed, reshuffle_each_iteration=True)
        if augment:
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
            data = tf.data.Dataset.zip((data, seeds)).map(
                lambda pair, s: (perturb(pair[0], s, self.sample_rate), pair[1]),
                num_parallel_calls=tf.data.AUTOTUNE,
            )

        def to_inputs(waveform, target):
            inputs = {
                "audio": waveform,
                "audio_length": tf.shape(waveform)[0],
                "target_in": tf.concat([[BOS_ID], target], 0),
            }
            return inputs, tf.concat([target, [EOS_ID]], 0)

        data = data.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE)
        return data.padded_batch(batch_size).prefetch(2)


def perturb(waveform, seed, sample_rate: int = SAMPLE_RATE):
    """Training augmentation of one waveform (stateless, from a `[2]` int64 seed): speed
    0.9-1.1 (30 %), telephone band 300-3400 Hz (30 %), noise at 10-30 dB SNR (50 %)."""
    seed = tf.cast(seed, tf.int64)
    draws = tf.random.stateless_uniform([6], seed=seed)
    if_speed, speed, if_phone, if_noise, snr = draws[0], draws[1], draws[2], draws[3], draws[4]
    factor = 0.9 + 0.2 * speed
    waveform = tf.cond(
        if_speed < 0.3, lambda: change_rate(waveform, factor), lambda: tf.identity(waveform)
    )
    waveform = tf.cond(
        if_phone < 0.3,
        lambda: band_limit(waveform, 300.0, 3400.0, sample_rate),
        lambda: tf.identity(waveform),
    )
    rms = tf.sqrt(tf.reduce_mean(tf.square(waveform)) + 1e-9)
    noise = tf.random.stateless_normal(tf.shape(waveform), seed=seed + 1)
    scale = rms / tf.pow(10.0, (10.0 + 20.0 * snr) / 20.0)
    return tf.cond(if_noise < 0.5, lambda: waveform + noise * scale, lambda: waveform)


def change_rate(waveform, factor):
    """`waveform` played `factor` times faster (linear interpolation): tempo and pitch."""
    length = tf.cast(tf.shape(waveform)[0], tf.float32)
    steps = tf.maximum(tf.cast(length / factor, tf.int32), 1)
    position = tf.minimum(tf.range(steps, dtype=tf.float32) * factor, length - 1)
    low = tf.cast(tf.floor(position), tf.int32)
    high = tf.minimum(low + 1, tf.shape(waveform)[0] - 1)
    share = position - tf.cast(low, tf.float32)
    return tf.gather(waveform, low) * (1 - share) + tf.gather(waveform, high) * share


def band_limit(waveform, low_hz: float, high_hz: float, sample_rate: int):
    """`waveform` with the frequencies outside [low_hz, high_hz] removed (an FFT mask)."""
    length = tf.shape(waveform)[0]
    spectrum = tf.signal.rfft(waveform)
    bins = tf.cast(tf.range(tf.shape(spectrum)[0]), tf.float32)
    hz = bins * sample_rate / tf.cast(length, tf.float32)
    keep = tf.cast((hz >= low_hz) & (hz <= high_hz), tf.complex64)
    return tf.signal.irfft(spectrum * keep, fft_length=[length])


def resample_in_graph(waveform, rate, target: int = SAMPLE_RATE):
    """`float32[N]` from `rate` Hz to `target` Hz by linear interpolation (the export's WAV
    input; no anti-aliasing filter, so audio above `target`'s band aliases a little)."""
    factor = tf.cast(rate, tf.float32) / float(target)
    return tf.cond(tf.equal(rate, target), lambda: waveform, lambda: change_rate(waveform, factor))


class SpeechRecognizer:
    """A trained recognizer with its characters: waveforms in, transcripts out.

    CTC models decode with `keras.ops.ctc_decode` (greedy for `beam_size=1`, else beam
    search); the speller with `zoo.decoding.beam_search`.
    """

    def __init__(
        self,
        model: keras.Model,
        pipeline: SpeechPipeline,
        beam_size: int = 4,
        length_penalty: float = 0.6,
    ):
        self.model = model
        self.pipeline = pipeline
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        self.attends = hasattr(model, "decode_step")
        spec = [tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None], tf.int32)]
        self._run = tf.function(self.run, input_signature=spec)
        self._run_short = tf.function(
            lambda audio, length: self.run(audio, length, with_alignment=False),
            input_signature=spec,
        )

    def run(self, audio, audio_length, with_alignment: bool = True):
        """The graph every prediction goes through (also the export's)."""
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
            )
            out = {"transcript": self.pipeline.decode(result.tokens), "log_prob": result.log_prob}
            if with_alignment:
                out["alignment"] = tf.cast(result.attention, tf.float32)
            return out
        log_probs = tf.nn.log_softmax(tf.cast(self.model(inputs), tf.float32))
        frames = tf.minimum(self.model.encoded_frames(audio_length), tf.shape(log_probs)[1])
        strategy = "greedy" if self.beam_size == 1 else "beam_search"
        tokens, scores = keras.ops.ctc_decode(
            log_probs, frames, strategy=strategy, beam_width=self.beam_size, mask_index=BLANK_ID
        )
        log_prob = -scores[:, 0] if strategy == "greedy" else scores[:, 0]
        out = {"transcript": self.pipeline.decode(tokens[0]), "log_prob": log_prob}
        if with_alignment:
            out["alignment"] = tf.exp(log_probs)  # per-frame posteriors
        return out

    def transcribe(self, waveforms: Sequence[np.ndarray], with_alignment: bool = True) -> dict:
        """Transcripts of int16 waveforms at the model's rate."""
        audio, lengths = pad_waveforms(waveforms)
        run = self._run if with_alignment else self._run_short
        out = run(tf.constant(audio), tf.constant(lengths))
        result = {key: value.numpy() for key, value in out.items()}
        result["transcript"] = [t.decode("utf-8") for t in result["transcript"]]
        return result

    def transcribe_all(self, waveforms: Sequence[np.ndarray], batch_size: int = 64) -> list:
        order = np.argsort([len(w) for w in waveforms])  # similar lengths: less padding
        out: list[str] = [""] * len(waveforms)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            texts = self.transcribe([waveforms[i] for i in chunk], with_alignment=False)
            for i, text in zip(chunk, texts["transcript"], strict=True):
                out[i] = text
        return out


def pad_waveforms(waveforms: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """`(float32[batch, longest] in [-1, 1], int32[batch] lengths)` of int16 waveforms."""
    lengths = np.array([len(w) for w in waveforms], np.int32)
    audio = np.zeros((len(waveforms), max(1, int(lengths.max(initial=0)))), np.float32)
    for i, w in enumerate(waveforms):
        audio[i, : len(w)] = np.asarray(w, np.float32) / 32768.0
    return audio, lengths


def wav_bytes(waveform: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM mono WAV file contents of int16 samples."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.asarray(waveform, np.int16).tobytes())
    return buffer.getvalue()


class ExportedRecognizer:
    """A speech SavedModel queried through its `waveform` signature."""

    def __init__(self, loaded: Any):
        self.loaded = loaded

    def transcribe_all(self, waveforms: Sequence[np.ndarray], batch_size: int = 64) -> list:
        out: list[str] = []
        for start in range(0, len(waveforms), batch_size):
            audio, lengths = pad_waveforms(waveforms[start : start + batch_size])
            result = self.loaded.signatures["waveform"](
                audio=tf.constant(audio), audio_length=tf.constant(lengths)
            )
            out += [t.decode("utf-8") for t in result["transcript"].numpy()]
        return out

    def transcribe_wav(self, contents: list[bytes]) -> dict:
        result = self.loaded.signatures["serving_default"](wav=tf.constant(contents))
        return {
            "transcript": [t.decode("utf-8") for t in result["transcript"].numpy()],
            "log_prob": result["log_prob"].numpy(),
        }


class SpeechServing:
    """The serving functions of a `SpeechRecognizer`.

    serving_default: {"wav": string[batch]} (16-bit PCM WAV files, any rate, mono or not)
                     -> {"transcript": string[batch], "log_prob": float32[batch]}
    waveform:        {"audio": float32[batch, samples] in [-1, 1] at the model's rate,
                      "audio_length": int32[batch]} -> the same outputs
    """

    def __init__(self, recognizer: SpeechRecognizer):
        self.recognizer = recognizer

    def archive(self) -> keras.export.ExportArchive:
        archive = keras.export.ExportArchive()
        archive.track(self.recognizer.model)
        archive.add_endpoint(
            "serving_default", self.serve, input_signature=[tf.TensorSpec([None], tf.string)]
        )
        archive.add_endpoint(
            "waveform",
            self.serve_waveform,
            input_signature=[
                tf.TensorSpec([None, None], tf.float32, name="audio"),
                tf.TensorSpec([None], tf.int32, name="audio_length"),
            ],
        )
        return archive

    def serve(self, wav):
        rate = self.recognizer.pipeline.sample_rate

        def decode(contents):
            audio, file_rate = tf.audio.decode_wav(contents)
            mono = tf.reduce_mean(audio, axis=1)
            return resample_in_graph(mono, file_rate, rate)

        waveforms = tf.map_fn(
            decode, wav, fn_output_signature=tf.RaggedTensorSpec([None], tf.float32)
        )
        lengths = tf.cast(waveforms.row_lengths(), tf.int32)
        audio = waveforms.to_tensor()
        audio = tf.pad(audio, [[0, 0], [0, 1]])  # an all-empty batch keeps one sample
        return self.serve_waveform(audio, lengths)

    def serve_waveform(self, audio, audio_length):
        out = self.recognizer.run(audio, audio_length, with_alignment=False)
        return {"transcript": out["transcript"], "log_prob": out["log_prob"]}


class SpeechTask(Task):
    """Audio in, characters out: CTC or attention, CER / WER by length."""

    name = "speech"
    input_name = "WAV file"
    predictions_file = "test_transcripts.tsv"
    declared = SPEECH
    objective = ("val_loss", "min")
    monitor = ("val_loss", "min")
    predict_options = ("beam_size",)

    # -- data ----------------------------------------------------------------------------

    def load_data(
        self, data: str, settings: Mapping[str, Any], validation=None, test=None
    ) -> SpeechCorpus:
        if data == ASTERISK:
            raise DataFileError(
                f"{ASTERISK} is a test set of real recordings: train on {SPOKEN_NUMBERS}, then "
                f"`zoo evaluate RUN --data {ASTERISK}`."
            )
        if data == SPOKEN_NUMBERS:
            if validation is not None or test is not None:
                raise DataFileError(f"{SPOKEN_NUMBERS} has its own held-out speakers.")
            sizes = SpokenNumbersSizes(
                settings["train_utterances"],
                settings["validation_utterances"],
                settings["test_utterances"],
            )
            return load_spoken_numbers(sizes, seed=settings["split_seed"])
        if not Path(data).exists():
            raise DataFileError(
                f"Unknown speech dataset {data!r}. Use one of {list(SPEECH_DATASETS)} or a "
                "folder of WAV files with a transcripts.tsv."
            )
        notes: list[str] = []
        utterances = read_speech_folder(data, notes)
        # Sets the user gives replace the ones cut from `data`, whose utterances train instead;
        # a set not given is cut from `data` and kept out of training.
        cut = split_utterances(utterances, settings["split_seed"], data)
        train = cut.train + (cut.validation if validation else []) + (cut.test if test else [])
        corpus = SpeechCorpus(
            data,
            train,
            read_speech_folder(validation, notes) if validation else cut.validation,
            read_speech_folder(test, notes) if test else cut.test,
        )
        for note in notes:
            print(f"note: {note}")
        return corpus

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> list:
        if data == SPOKEN_NUMBERS:
            return self.load_data(data, settings).test
        if data == ASTERISK:
            return load_asterisk_prompts()
        notes: list[str] = []
        utterances = read_speech_folder(data, notes)
        for note in notes:
            print(f"note: {note}")
        return utterances

    def examples(self, corpus: SpeechCorpus) -> list[str]:
        """A few validation utterances as base64 WAV files (JSON-able warmup inputs)."""
        return [base64.b64encode(wav_bytes(u[0])).decode("ascii") for u in corpus.validation[:5]]

    # -- training ------------------------------------------------------------------------

    def fit_pipeline(self, corpus: SpeechCorpus, training: dict) -> SpeechPipeline:
        return SpeechPipeline.fit(corpus)

    def load_pipeline(self, run: Path) -> SpeechPipeline:
        return SpeechPipeline.load(run)

    def model_sizes(self, pipeline: SpeechPipeline) -> dict:
        return {"vocab_size": len(pipeline.characters), "sample_rate": pipeline.sample_rate}

    def compile(self, model: keras.Model, training: dict) -> None:
        optimizer = keras.optimizers.Adam(training["learning_rate"], clipnorm=training["clipnorm"])
        if hasattr(model, "decode_step"):  # the speller: cross-entropy over real characters
            model.compile(
                optimizer=optimizer,
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
                # a joint CTC term (if any) is the model's own, added with `add_loss`
                loss_weights=1.0 - getattr(model, "ctc_weight", 0.0),
            )
        else:  # CTC: the model's own `compute_loss`
            model.compile(optimizer=optimizer)

    def datasets(self, pipeline: SpeechPipeline, corpus: SpeechCorpus, training: dict):
        batch = training["batch_size"]
        return (
            pipeline.dataset(
                corpus.train, batch, shuffle=True, seed=training["seed"],
                augment=training["augment"],
            ),
            pipeline.dataset(corpus.validation, batch),
        )  # fmt: skip

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(self, run: Path, model, pipeline: SpeechPipeline, corpus, training) -> dict:
        recognizer = self.predictor(model, pipeline, training)
        metrics = self.score(recognizer, corpus.test, run / self.predictions_file)
        for i, utterance in enumerate(corpus.test[: training["attention_examples"]]):
            self.plot_attention(recognizer, utterance, run / "attention" / f"example_{i}.png")
        return metrics

    def score(self, recognizer, utterances: list, predictions: Path | None = None) -> dict:
        if not utterances:
            raise DataFileError("There are no utterances to score.")
        hypotheses = recognizer.transcribe_all([u[0] for u in utterances])
        references = [u[1] for u in utterances]
        if predictions is not None:
            predictions.parent.mkdir(parents=True, exist_ok=True)
            write_table(
                predictions,
                ("utterance", "reference", "transcript"),
                ((u[2], u[1], h) for u, h in zip(utterances, hypotheses, strict=True)),
            )
        return speech_metrics(hypotheses, references)

    def format_metrics(self, metrics: dict) -> str:
        lines = [
            f"test: {metrics['count']} utterances: CER {metrics['cer']:.1%}, WER "
            f"{metrics['wer']:.1%}, exact {metrics['exact_match']:.1%}",
            "  by length (words): "
            + ", ".join(
                f"{name}: CER {m['cer']:.1%} WER {m['wer']:.1%} ({m['count']})"
                for name, m in metrics["by_length"].items()
            ),
        ]
        return "\n".join(lines)

    # -- prediction ----------------------------------------------------------------------

    def predictor(self, model: keras.Model, pipeline: SpeechPipeline, options: Mapping):
        return SpeechRecognizer(
            model,
            pipeline,
            beam_size=options.get("beam_size", SPEECH.defaults["beam_size"]),
            length_penalty=options.get("length_penalty", SPEECH.defaults["length_penalty"]),
        )

    def exported_predictor(self, loaded: Any, about: dict) -> ExportedRecognizer:
        return ExportedRecognizer(loaded)

    def check_inputs(self, inputs: Sequence[Any]) -> None:
        for item in inputs:
            if not isinstance(item, (str, Path)):
                raise ValueError(f"Give the path of a WAV file, received {item!r}.")
            read_wav(item)  # names the file and what is wrong with it

    def predict(self, recognizer, inputs: list) -> list[dict]:
        if isinstance(recognizer, ExportedRecognizer):
            out = recognizer.transcribe_wav([Path(p).read_bytes() for p in inputs])
        else:
            waveforms = [resample(*read_wav(p)) for p in inputs]
            out = recognizer.transcribe(waveforms, with_alignment=False)
        return [
            {"file": str(path), "transcript": text, "log_prob": float(log_prob)}
            for path, text, log_prob in zip(
                inputs, out["transcript"], out["log_prob"], strict=False
            )
        ]

    def format_row(self, row: dict) -> str:
        return f"{row['file']}\t{row['transcript']}\t(log-prob {row['log_prob']:.2f})"

    def plot_attention(self, recognizer, item: Any, path: Path) -> Path | None:
        """The speller's alignment (characters x frames), or CTC's frame posteriors, under
        the utterance's log-mel spectrogram. `item` is a WAV path or an utterance tuple."""
        if not isinstance(recognizer, SpeechRecognizer):  # an export records no alignment
            return None
        waveform = resample(*read_wav(item)) if isinstance(item, (str, Path)) else item[0]
        out = recognizer.transcribe([waveform])
        audio, lengths = pad_waveforms([waveform])
        features, _ = recognizer.model.features(audio, lengths)
        features = keras.ops.convert_to_numpy(features)[0]
        frames = int(recognizer.model.encoded_frames(lengths)[0])
        text = out["transcript"][0]
        title = f"heard {text!r}" + ("" if isinstance(item, (str, Path)) else f", said {item[1]!r}")
        if recognizer.attends:
            rows = [*text, "</s>"]
            weights = out["alignment"][0, : len(rows), :frames]
            ylabel = "output character"
        else:
            posteriors = out["alignment"][0, :frames]  # [frames, vocab]
            seen = sorted(set(posteriors.argmax(axis=1).tolist()))  # each wins some frame
            tokens = recognizer.pipeline.characters.tokens
            rows = ["<blank>" if i == BLANK_ID else tokens[i] for i in seen]
            weights = posteriors[:, seen].T
            ylabel = "character posterior"
        path.parent.mkdir(parents=True, exist_ok=True)
        return plots.speech_alignment(features, weights, rows, path, title=title, ylabel=ylabel)

    # -- serving -------------------------------------------------------------------------

    def serving_archive(self, recognizer: SpeechRecognizer) -> keras.export.ExportArchive:
        return SpeechServing(recognizer).archive()

    def about(self, recognizer: SpeechRecognizer) -> dict:
        return {
            "sample_rate": recognizer.pipeline.sample_rate,
            "search": {"beam_size": recognizer.beam_size},
        }

    def warmup_inputs(self, examples: list) -> list[dict[str, Any]]:
        return [{"wav": np.array([base64.b64decode(e)], dtype=object)} for e in examples]


TASK = SpeechTask()
