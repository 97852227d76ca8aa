"""Speech recognition as a task: audio and characters in, CER / WER by length out; the hooks
`zoo.training`, `zoo.serving` and the CLI call.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from zoo import plots
from zoo.data.audio import read_audio, wav_bytes
from zoo.data.speech import (
    ASTERISK,
    SPEECH_DATASETS,
    SPOKEN_NUMBERS,
    SpeechCorpus,
    SpokenNumbersSizes,
    load_asterisk_prompts,
    load_speech_test_set,
    load_spoken_numbers,
    resample,
    split_by_prompt,
    split_utterances,
)
from zoo.data.speech_corpora import read_speech_data
from zoo.data.tsv import DataFileError
from zoo.metrics import speech_metrics
from zoo.models.speech import BLANK_ID
from zoo.runs import write_table
from zoo.tasks.base import Task, compiles_steps
from zoo.tasks.speech.pipeline import SpeechPipeline
from zoo.tasks.speech.predictor import (
    ExportedRecognizer,
    SpeechRecognizer,
    confidence_threshold,
    pad_waveforms,
)
from zoo.tasks.speech.serving import SpeechServing
from zoo.tasks.speech.settings import DEFAULT_AUGMENTATIONS, SETTINGS


class SpeechTask(Task):
    """Audio in, characters out: CTC or attention, CER / WER by length."""

    name = "speech"
    input_name = "WAV file"
    predictions_file = "test_transcripts.tsv"
    declared = SETTINGS
    objective = ("val_loss", "min")
    monitor = ("val_loss", "min")
    predict_options = ("beam_size", "words")

    # -- data ----------------------------------------------------------------------------

    def load_data(
        self, data: str, settings: Mapping[str, Any], validation=None, test=None
    ) -> SpeechCorpus:
        if data == ASTERISK:  # fine-tuning on one real speaker: half her prompts, by text
            if validation is not None or test is not None:
                raise DataFileError(f"{ASTERISK} is split by prompt text on its own.")
            return split_by_prompt(load_asterisk_prompts(), settings["split_seed"])
        if data in SPEECH_DATASETS and data != SPOKEN_NUMBERS:
            raise DataFileError(
                f"{data} is a test set only: train on {SPOKEN_NUMBERS}, then "
                f"`zoo evaluate RUN --data {data}`."
            )
        if data == SPOKEN_NUMBERS:
            if validation is not None or test is not None:
                raise DataFileError(f"{SPOKEN_NUMBERS} has its own held-out speakers.")
            try:
                corpus = load_spoken_numbers(
                    self._sizes(settings),
                    seed=settings["split_seed"],
                    # Runs from before these settings (fine-tuned, resumed) had espeak-ng only.
                    other_synthesizers=settings.get("other_synthesizers", "").split(","),
                    other_utterances=settings.get("other_utterances", 0),
                )
            except DataFileError as error:  # flite or Festival missing
                raise DataFileError(
                    f"{error} Or train on espeak-ng's voices alone: --set other_utterances=0."
                ) from None
            for note in corpus.notes:
                print(f"note: {note}")
            return corpus
        if not Path(data).exists():
            raise DataFileError(
                f"Unknown speech dataset {data!r}. Use one of {list(SPEECH_DATASETS)}, a folder "
                "of recordings (with a transcripts.tsv, or in LibriSpeech, Common Voice or Kaldi "
                "layout) or a CSV / TSV manifest of audio paths and texts."
            )
        notes: list[str] = []
        utterances = read_speech_data(data, notes)
        # Sets the user gives replace the ones cut from `data`, whose utterances train instead;
        # a set not given is cut from `data` and kept out of training.
        cut = split_utterances(utterances, settings["split_seed"], data)
        train = cut.train + (cut.validation if validation else []) + (cut.test if test else [])
        corpus = SpeechCorpus(
            data,
            train,
            read_speech_data(validation, notes) if validation else cut.validation,
            read_speech_data(test, notes) if test else cut.test,
        )
        for note in notes:
            print(f"note: {note}")
        return corpus

    @staticmethod
    def _sizes(settings: Mapping[str, Any]) -> SpokenNumbersSizes:
        return SpokenNumbersSizes(
            settings["train_utterances"],
            settings["validation_utterances"],
            settings["test_utterances"],
        )

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> list:
        if data == ASTERISK:
            if settings.get("trained_on") == ASTERISK:  # her other prompts, never trained on
                print(f"note: the {ASTERISK} this run did not train on (split by text)")
                return self.load_data(ASTERISK, settings).test
            return load_asterisk_prompts()
        if data in SPEECH_DATASETS:
            return load_speech_test_set(data, self._sizes(settings), settings["split_seed"])
        notes: list[str] = []
        utterances = read_speech_data(data, notes)
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
        batch, seed = training["batch_size"], training["seed"]
        # runs from before the setting (resumed, fine-tuned) had the default three
        kinds = training.get("augmentations", DEFAULT_AUGMENTATIONS)
        edges = validation_edges = ((), ())
        if compiles_steps(training):  # a few compiled shapes, not one per batch
            stretched = training["augment"] and "speed" in kinds
            edges = pipeline.padding_edges(corpus.train, batch, seed, stretched)
            validation_edges = pipeline.padding_edges(corpus.validation, batch, seed)
            audio, characters = (list(e) for e in edges)
            print(f"Padding from the data: audio padded to {audio} samples, transcripts to "
                  f"{characters} characters")  # fmt: skip
        return (
            pipeline.dataset(
                corpus.train, batch, shuffle=True, seed=seed, augment=training["augment"],
                augmentations=kinds, edges=edges,
            ),
            pipeline.dataset(corpus.validation, batch, edges=validation_edges),
        )  # fmt: skip

    # -- evaluation ----------------------------------------------------------------------

    def evaluate(self, run: Path, model, pipeline: SpeechPipeline, corpus, training) -> dict:
        # The confidence threshold, from the validation answers, before the test is scored
        # (a fine-tuned run's few validation answers may not give one: it keeps its source's).
        before, pipeline.min_log_prob = pipeline.min_log_prob, None
        validation = self.predictor(model, pipeline, training).transcribe_scored(
            [u[0] for u in corpus.validation]
        )
        threshold = confidence_threshold(
            validation["transcript"], validation["log_prob"], [u[1] for u in corpus.validation]
        )
        pipeline.min_log_prob = before if threshold is None else threshold
        pipeline.save(run)
        recognizer = self.predictor(model, pipeline, training)
        metrics = self.score(recognizer, corpus.test, run / self.predictions_file)
        for i, utterance in enumerate(corpus.test[: training["attention_examples"]]):
            self.plot_attention(recognizer, utterance, run / "attention" / f"example_{i}.png")
        return metrics

    def score(self, recognizer, utterances: list, predictions: Path | None = None) -> dict:
        if not utterances:
            raise DataFileError("There are no utterances to score.")
        out = recognizer.transcribe_scored([u[0] for u in utterances])
        hypotheses, confident = out["transcript"], [bool(c) for c in out["confident"]]
        references = [u[1] for u in utterances]
        if predictions is not None:
            predictions.parent.mkdir(parents=True, exist_ok=True)
            write_table(
                predictions,
                ("utterance", "reference", "transcript", "confident"),
                (
                    (u[2], u[1], h, str(c).lower())
                    for u, h, c in zip(utterances, hypotheses, confident, strict=True)
                ),
            )
        metrics = speech_metrics(hypotheses, references)
        right = [h == r for h, r in zip(hypotheses, references, strict=True)]
        flags = list(zip(confident, right, strict=True))
        metrics["confidence"] = {  # how well `confident` separates right from wrong answers
            "flagged_of_wrong": _share([not c for c, right in flags if not right]),
            "flagged_of_right": _share([not c for c, right in flags if right]),
            "threshold": getattr(getattr(recognizer, "pipeline", None), "min_log_prob", None),
        }
        return metrics

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
            beam_size=options.get("beam_size", SETTINGS.defaults["beam_size"]),
            length_penalty=options.get("length_penalty", SETTINGS.defaults["length_penalty"]),
            words=options.get("words"),
        )

    def check_options(self, options: Mapping[str, Any]) -> None:
        # A word list is checked where it is read (`read_words`); the rest are integers.
        super().check_options({k: v for k, v in options.items() if k != "words"})

    def exported_predictor(self, loaded: Any, about: dict) -> ExportedRecognizer:
        return ExportedRecognizer(loaded)

    def check_inputs(self, inputs: Sequence[Any]) -> None:
        for item in inputs:
            if not isinstance(item, (str, Path)):
                raise ValueError(f"Give the path of a WAV file, received {item!r}.")
            read_audio(item)  # names the file and what is wrong with it

    def predict(self, recognizer, inputs: list) -> list[dict]:
        if isinstance(recognizer, ExportedRecognizer):
            out = recognizer.transcribe_wav([Path(p).read_bytes() for p in inputs])
        else:
            waveforms = [resample(*read_audio(p)) for p in inputs]
            out = recognizer.transcribe(waveforms, with_alignment=False)
        return [
            {
                "file": str(path),
                "transcript": text,
                "log_prob": float(log_prob),
                "speech": bool(speech),
                "confident": bool(confident),
            }  # fmt: skip
            for path, text, log_prob, speech, confident in zip(
                inputs,
                out["transcript"],
                out["log_prob"],
                out["speech"],
                out["confident"],
                strict=False,
            )  # fmt: skip
        ]

    def format_row(self, row: dict) -> str:
        if not row.get("speech", True):
            return f"{row['file']}\t\t(no speech)"
        doubt = "" if row.get("confident", True) else ", low confidence"
        return f"{row['file']}\t{row['transcript']}\t(log-prob {row['log_prob']:.2f}{doubt})"

    def plot_attention(self, recognizer, item: Any, path: Path) -> Path | None:
        """The speller's alignment (characters x frames), or CTC's frame posteriors, under
        the utterance's log-mel spectrogram. `item` is a WAV path or an utterance tuple."""
        if not isinstance(recognizer, SpeechRecognizer):  # an export records no alignment
            return None
        waveform = resample(*read_audio(item)) if isinstance(item, (str, Path)) else item[0]
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
            "search": {"beam_size": recognizer.beam_size, "words": recognizer.words},
        }

    def warmup_inputs(self, examples: list) -> list[dict[str, Any]]:
        return [{"wav": np.array([base64.b64decode(e)], dtype=object)} for e in examples]


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


TASK = SpeechTask()
