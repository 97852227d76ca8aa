"""Text classification as a task: label pipeline, a `Classifier` from text to labels, metrics,
explanations (which words the attention looked at) and the serving signatures of its exports.

Text becomes ids through the same TensorFlow functions in training, `predict` and the
exported SavedModel.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from zoo import plots
from zoo.data import (
    CLASSIFICATION_DATASETS,
    DataFileError,
    LabelledCorpus,
    load_classification,
    read_labelled_file,
)
from zoo.data.tokenization import TokenIds, Tokenizer
from zoo.data.vocabulary import Vocabulary
from zoo.layers.base_attention import padding_mask
from zoo.metrics import classification_metrics
from zoo.tasks.base import TextTask, load_trained_model, write_table
from zoo.tasks.settings import CLASSIFICATION

VOCAB = "vocab.txt"
LABELS = "labels.txt"
TEXT_CONFIG = "text.json"


@dataclass
class LabelPipeline:
    """Tokenizer, vocabulary and label names of a classifier."""

    tokenizer: Tokenizer
    vocab: Vocabulary
    labels: list[str]
    max_length: int = 100

    def __post_init__(self):
        self.ids = TokenIds(self.vocab)
        self.label_names = tf.constant(self.labels)
        self._label_ids = {label: i for i, label in enumerate(self.labels)}

    @classmethod
    def fit(
        cls,
        examples: list[tuple[str, str]],
        lowercase: bool = True,
        max_vocab_size: int = 20_000,
        max_length: int = 100,
        min_count: int = 1,
    ) -> LabelPipeline:
        tokenizer = Tokenizer("word", lowercase)
        rows = tokenizer.split([text for text, _ in examples]).to_list()
        tokens = [[t.decode("utf-8") for t in row] for row in rows]
        labels = sorted({label for _, label in examples})
        vocab = Vocabulary.build(tokens, max_size=max_vocab_size, min_count=min_count)
        return cls(tokenizer, vocab, labels, max_length)

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        self.vocab.save(directory / VOCAB)
        # labels.txt is for people; text.json holds them exactly (a label may hold a newline).
        (directory / LABELS).write_text("".join(f"{label!r}\n" for label in self.labels))
        config = {
            "tokenizer": self.tokenizer.get_config(),
            "max_length": self.max_length,
            "labels": self.labels,
        }
        (directory / TEXT_CONFIG).write_text(json.dumps(config, indent=2))

    @classmethod
    def load(cls, directory: str | Path) -> LabelPipeline:
        directory = Path(directory)
        config = json.loads((directory / TEXT_CONFIG).read_text())
        return cls(
            Tokenizer(**config["tokenizer"]),
            Vocabulary.load(directory / VOCAB),
            config["labels"],
            config["max_length"],
        )

    def tokens(self, texts) -> tf.RaggedTensor:
        return self.tokenizer.split(texts)[:, : self.max_length]

    def encode(self, texts) -> tf.Tensor:
        """`string[batch]` -> `int32[batch, T]`; one padding column keeps T >= 1."""
        ids = self.ids.encode(self.tokens(texts)).to_tensor()
        return tf.pad(ids, [[0, 0], [0, 1]])

    def label_ids(self, labels: list[str], where: str = "") -> np.ndarray:
        unknown = sorted({label for label in labels if label not in self._label_ids})
        if unknown:
            raise DataFileError(
                f"{where}labels {unknown} were not seen in training; the model knows "
                f"{self.labels}. Add training examples of them, or leave them out here."
            )
        return np.array([self._label_ids[label] for label in labels], dtype="int32")

    def dataset(
        self, examples: list[tuple[str, str]], batch_size: int, shuffle=False, seed: int = 0
    ) -> tf.data.Dataset:
        texts = tf.constant([text for text, _ in examples])
        labels = tf.constant(self.label_ids([label for _, label in examples]))
        data = tf.data.Dataset.from_tensor_slices((texts, labels))
        if shuffle:
            data = data.shuffle(len(examples), seed=seed, reshuffle_each_iteration=True)
        return (
            data.batch(batch_size)
            .map(lambda t, y: (self.encode(t), y), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(2)
        )


class Classifier:
    """A trained `TextClassifier` with its pipeline: `classify(["..."])` gives labels."""

    def __init__(self, model: keras.Model, text: LabelPipeline):
        self.model = model
        self.text = text
        ids = tf.TensorSpec([None, None], tf.int32)  # one trace for every shape
        self._run = tf.function(self.run_ids, input_signature=[ids])

    @classmethod
    def load(cls, run_dir: str | Path) -> Classifier:
        """The classifier saved in a training run directory (`model.keras` + pipeline)."""
        return cls(load_trained_model(run_dir), LabelPipeline.load(run_dir))

    @property
    def pipeline(self) -> LabelPipeline:
        """What `Task.predictor` takes with the model (the label pipeline)."""
        return self.text

    @property
    def labels(self) -> list[str]:
        return self.text.labels

    def run_ids(self, token_ids):
        logits, weights = self.model.classify(token_ids)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        label = tf.gather(self.text.label_names, tf.argmax(probabilities, axis=-1))
        if weights is None:
            weights = tf.zeros([tf.shape(token_ids)[0], 0, tf.shape(token_ids)[1]])
        return {"label": label, "probabilities": probabilities, "weights": weights}

    def classify(self, texts: list[str] | str) -> dict:
        """Labels, probabilities and, per text, its tokens and attention `[heads, tokens]`."""
        if isinstance(texts, str):
            texts = [texts]
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"Text {i} is empty: give a text to classify, received {text!r}.")
        tokens = [[t.decode("utf-8") for t in row] for row in self.text.tokens(texts).to_list()]
        out = self._run(self.text.encode(texts))
        weights = out["weights"].numpy()
        return {
            "label": [label.decode("utf-8") for label in out["label"].numpy()],
            "probabilities": out["probabilities"].numpy(),
            "tokens": tokens,
            "attention": [weights[i, :, : len(tokens[i])] for i in range(len(texts))],
        }

    def classify_all(self, texts: list[str], batch_size: int = 256) -> list[str]:
        labels: list[str] = []
        for start in range(0, len(texts), batch_size):
            out = self._run(self.text.encode(texts[start : start + batch_size]))
            labels += [label.decode("utf-8") for label in out["label"].numpy()]
        return labels


def integrated_gradients(
    classifier: Classifier, texts: list[str], steps: int = 64
) -> list[np.ndarray]:
    """Integrated gradients (Sundararajan et al. 2017) of each text's predicted label.

    For each token, the gradient of the predicted label's probability with respect to the
    token's embedding, averaged along the straight path from an all-zero embedding to the real
    one (midpoint rule, `steps` points), times the embedding, summed over its dimensions.
    Positive: the token pushes towards the predicted label. The scores of a text add up to
    `p(label | text) - p(label | zero embeddings)` (the method's completeness), up to the
    quadrature error.

    Returns:
        One `float32[len(tokens)]` array per text.
    """
    model = classifier.model
    ids = classifier.text.encode(texts)
    mask = padding_mask(ids)  # as the model masks
    embedded = model.embedding(ids)  # [B, T, E]
    logits, _ = model.classify(ids)
    label = tf.argmax(logits, axis=-1)
    alphas = (tf.range(steps, dtype=embedded.dtype) + 0.5) / steps
    batch = tf.shape(ids)[0]
    path = alphas[:, None, None, None] * embedded[None]  # [steps, B, T, E]
    path = tf.reshape(path, tf.concat([[steps * batch], tf.shape(embedded)[1:]], 0))
    path_mask = tf.tile(mask, [steps, 1])
    path_label = tf.tile(label, [steps])
    with tf.GradientTape() as tape:
        tape.watch(path)
        path_logits, _ = model.classify_embedded(path, path_mask)
        probability = tf.gather(tf.nn.softmax(path_logits, -1), path_label, batch_dims=1)
    gradients = tf.reshape(
        tape.gradient(probability, path), tf.concat([[steps], tf.shape(embedded)], 0)
    )
    scores = tf.reduce_sum(embedded * tf.reduce_mean(gradients, axis=0), axis=-1).numpy()
    lengths = classifier.text.tokens(texts).row_lengths().numpy()
    return [scores[i, :n] for i, n in enumerate(lengths)]


def explanation_html(
    text: str, label: str, tokens: list[str], weights: np.ndarray, attributions: np.ndarray
) -> str:
    """An HTML page: each token shaded by its attribution (green towards the predicted label,
    red away from it) and, one row per head, by its attention weight (scaled to the largest)."""

    def spans(values, colour) -> str:
        scale = float(np.abs(values).max()) or 1.0
        return " ".join(
            f'<span style="background: {colour(v)}{abs(v) / scale:.3f})" title="{v:.4f}">'
            f"{html.escape(token)}</span>"
            for token, v in zip(tokens, values, strict=True)
        )

    rows = [
        "<p><b>integrated gradients</b>: "
        + spans(attributions, lambda v: "rgba(42, 157, 63, " if v >= 0 else "rgba(209, 73, 91, ")
        + "</p>"
    ]
    for head, row in enumerate(weights):
        rows.append(
            f"<p><b>attention, head {head + 1}</b>: "
            + spans(row, lambda v: "rgba(230, 80, 0, ")
            + "</p>"
        )
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>explanation</title></head>'
        '<body style="font-family: sans-serif; max-width: 60em; line-height: 1.8">\n'
        f"<p><b>predicted:</b> {html.escape(label)}</p>\n<p><b>text:</b> {html.escape(text)}</p>\n"
        + "\n".join(rows)
        + "\n</body></html>\n"
    )


def save_explanations(classifier: Classifier, texts: list[str], directory: Path) -> list[Path]:
    """For each text, a PNG and an HTML page: integrated gradients, and attention if any."""
    if not texts:
        return []
    directory.mkdir(exist_ok=True)
    out = classifier.classify(texts)
    attributions = integrated_gradients(classifier, texts)
    paths = []
    for i, text in enumerate(texts):
        weights, tokens = out["attention"][i], out["tokens"][i]
        title = f"predicted {out['label'][i]}"
        png = directory / f"example_{i}.png"
        shown = weights if weights.size else None
        paths.append(plots.explanation(tokens, attributions[i], png, title, shown))
        page = directory / f"example_{i}.html"
        html_text = explanation_html(text, out["label"][i], tokens, weights, attributions[i])
        page.write_text(html_text, "utf-8")
        paths.append(page)
    return paths


class ExportedClassifier:
    """A classification SavedModel queried through its signatures, answering like `Classifier`."""

    def __init__(self, loaded: Any, labels: list[str]):
        self.loaded = loaded
        self.labels = labels

    def classify(self, texts: list[str] | str) -> dict:
        if isinstance(texts, str):
            texts = [texts]
        out = self.loaded.signatures["serving_default"](text=tf.constant(texts))
        result = {
            "label": [label.decode("utf-8") for label in out["label"].numpy()],
            "probabilities": out["probabilities"].numpy(),
            "tokens": [[] for _ in texts],
            "attention": [np.zeros((0, 0), "float32") for _ in texts],
        }
        if "attention" in self.loaded.signatures:
            att = self.loaded.signatures["attention"](text=tf.constant(texts))
            weights = att["weights"].numpy()
            for i, row in enumerate(att["tokens"].numpy()):
                tokens = [t.decode("utf-8") for t in row if t]
                result["tokens"][i] = tokens
                result["attention"][i] = weights[i, :, : len(tokens)]
        return result


class ClassificationServing:
    """The serving functions of a `Classifier`: raw strings in, labels and probabilities out.

    serving_default: {"text": string[batch]} -> {"label": string[batch],
                                                 "probabilities": float32[batch, classes]}
    attention:       {"text": string[batch]} -> {"label", "tokens": string[batch, T],
                      "weights": float32[batch, heads, T]} (attention models only)
    """

    signature = [tf.TensorSpec([None], tf.string, name="text")]

    def __init__(self, classifier: Classifier):
        self.classifier = classifier
        self.tables = [classifier.text.ids.to_id, classifier.text.ids.to_token]

    def archive(self) -> keras.export.ExportArchive:
        archive = keras.export.ExportArchive()  # see TranslationServing.archive
        archive.track(self.classifier.model)
        for table in self.tables:
            archive.track(table)
        archive.add_endpoint("serving_default", self.serve, input_signature=self.signature)
        if self.classifier.model.attention is not None:
            archive.add_endpoint("attention", self.attention, input_signature=self.signature)
        return archive

    def serve(self, text):
        out = self.classifier.run_ids(self.classifier.text.encode(text))
        return {"label": out["label"], "probabilities": out["probabilities"]}

    def attention(self, text):
        tokens = self.classifier.text.tokens(text)
        out = self.classifier.run_ids(self.classifier.text.encode(text))
        length = tf.shape(tokens.to_tensor())[1]
        return {
            "label": out["label"],
            "tokens": tokens.to_tensor(default_value=""),
            "weights": out["weights"][:, :, :length],
        }


def evaluate_classifier(
    classifier: Classifier, examples: list[tuple[str, str]], predictions: Path | None = None
) -> dict:
    """Accuracy, macro-F1 and the confusion matrix of `classifier` on `(text, label)` pairs;
    with `predictions`, also writes `text<TAB>label<TAB>predicted` lines there."""
    labels = classifier.text.labels
    truth = [label for _, label in examples]
    classifier.text.label_ids(truth, where="test set: ")
    texts = [text for text, _ in examples]
    predicted = classifier.classify_all(texts)
    if predictions is not None:
        write_table(predictions, ["text", "label", "predicted"],
                    zip(texts, truth, predicted, strict=True))  # fmt: skip
    return classification_metrics(truth, predicted, labels)


class ClassificationTask(TextTask):
    """Labelled text, cross-entropy, accuracy / macro-F1, attention explanations."""

    name = "classification"
    declared = CLASSIFICATION
    objective = ("val_accuracy", "max")
    # Validation loss keeps rising on these small sets while accuracy still improves.
    monitor = ("val_accuracy", "max")
    demo_texts = {
        "rt-polarity": [
            "A gripping, beautifully acted thriller that never lets go.",
            "Tedious, clumsy and far too long; the jokes fall flat.",
        ]
    }

    def load_data(
        self, data: str, settings: Mapping[str, Any], validation=None, test=None
    ) -> LabelledCorpus:
        return load_classification(
            data, seed=settings["split_seed"], validation=validation, test=test
        )

    def load_test_set(self, data: str, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
        if data in CLASSIFICATION_DATASETS:
            return load_classification(data, seed=settings["split_seed"]).test
        return read_labelled_file(data)

    def demo_inputs(self, data: str) -> list[str]:
        return self.demo_texts.get(data, [])

    def fit_pipeline(self, corpus: LabelledCorpus, training: dict) -> LabelPipeline:
        return LabelPipeline.fit(
            corpus.train,
            lowercase=training["lowercase"],
            max_vocab_size=training["max_vocab_size"],
            max_length=training["max_source_length"],
            min_count=training["min_count"],
        )

    def load_pipeline(self, run: Path) -> LabelPipeline:
        return LabelPipeline.load(run)

    def model_sizes(self, text: LabelPipeline) -> dict:
        return {"vocab_size": len(text.vocab), "num_classes": len(text.labels)}

    def compile(self, model: keras.Model, training: dict) -> None:
        self.compile_with(
            model,
            training,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )

    def evaluate(
        self, run: Path, model: keras.Model, text: LabelPipeline, corpus: LabelledCorpus, training
    ) -> dict:
        classifier = Classifier(model, text)
        metrics = self.score(classifier, corpus.test, run / self.predictions_file)
        texts = [t for t, _ in corpus.test[: training["attention_examples"]]]
        save_explanations(classifier, texts, run / "attention")
        return metrics

    def score(
        self, classifier: Classifier, examples: list, predictions: Path | None = None
    ) -> dict:
        return evaluate_classifier(classifier, examples, predictions)

    def format_metrics(self, metrics: dict) -> str:
        lines = [
            f"test: accuracy {metrics['accuracy']:.2%}  macro-F1 {metrics['macro_f1']:.3f}  "
            f"({metrics['count']} examples)"
        ]
        labels = metrics["labels"]
        width = max(len(label) for label in labels)
        lines.append(f"  confusion (rows: true, columns: predicted {labels})")
        for label, row in zip(labels, metrics["confusion_matrix"], strict=True):
            lines.append(f"  {label:>{width}s}: {row}")
        return "\n".join(lines)

    def predictor(self, model: keras.Model, text: LabelPipeline, options: Mapping) -> Classifier:
        return Classifier(model, text)

    def exported_predictor(self, loaded: Any, about: dict) -> ExportedClassifier:
        return ExportedClassifier(loaded, about["labels"])

    def predict(self, classifier: Classifier | ExportedClassifier, texts: list[str]) -> list[dict]:
        out = classifier.classify(texts)
        return [
            {
                "text": text,
                "label": label,
                "probabilities": dict(zip(classifier.labels, map(float, p), strict=True)),
            }
            for text, label, p in zip(texts, out["label"], out["probabilities"], strict=True)
        ]

    def format_row(self, row: dict) -> str:
        return f"{row['text']}\t{row['label']}\t{max(row['probabilities'].values()):.3f}"

    def plot_attention(self, classifier, text: str, path: Path) -> Path | None:
        out = classifier.classify([text])
        weights = out["attention"][0]
        title = f"predicted {out['label'][0]}"
        shown = weights if weights.size else None
        if isinstance(classifier, Classifier):  # the model is here: attributions too
            (attributions,) = integrated_gradients(classifier, [text])
            return plots.explanation(out["tokens"][0], attributions, path, title, shown)
        if shown is None:
            return None  # an exported max-pooling baseline: nothing to draw
        heads = [f"head {h + 1}" for h in range(weights.shape[0])]
        return plots.attention_heatmap(
            weights, out["tokens"][0], heads, path, title, "token", "head"
        )

    def serving_archive(self, classifier: Classifier) -> keras.export.ExportArchive:
        return ClassificationServing(classifier).archive()

    def about(self, classifier: Classifier) -> dict:
        return {"labels": classifier.text.labels}


TASK = ClassificationTask()
