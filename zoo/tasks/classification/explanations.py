"""Which words a classifier looked at and which ones moved its decision: attention weights
beside integrated gradients, as HTML pages.
"""

from __future__ import annotations

import html
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from zoo import plots
from zoo.layers.base_attention import padding_mask
from zoo.tasks.classification.predictor import Classifier


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
    ids = classifier.text.encode(texts)
    backend = keras.backend.backend()
    path_gradients = {"tensorflow": _path_gradients_tf, "jax": _path_gradients_jax}
    if backend not in path_gradients:
        raise NotImplementedError(
            f"Integrated gradients run on the TensorFlow and JAX backends, not {backend!r}: "
            "set KERAS_BACKEND=tensorflow or jax."
        )
    embedded, gradients = path_gradients[backend](classifier.model, ids.numpy(), steps)
    scores = np.sum(embedded * gradients.mean(axis=0), axis=-1)
    lengths = classifier.text.tokens(texts).row_lengths().numpy()
    return [scores[i, :n] for i, n in enumerate(lengths)]


def _path(model, ids, steps: int):
    """The embeddings `[B, T, E]`, the predicted labels, and the scaled embeddings along the
    path `[steps * B, T, E]` with their masks and labels."""
    mask = padding_mask(ids)  # as the model masks
    embedded = model.embedding(ids)
    logits, _ = model.classify(ids)
    label = ops.argmax(logits, axis=-1)
    alphas = (ops.arange(steps, dtype=embedded.dtype) + 0.5) / steps
    _, length, width = ops.shape(embedded)
    path = ops.reshape(alphas[:, None, None, None] * embedded[None], (-1, length, width))
    return embedded, path, ops.tile(mask, [steps, 1]), ops.tile(label, [steps])


def _label_probability(model, path, path_mask, path_label):
    path_logits, _ = model.classify_embedded(path, path_mask)
    probabilities = ops.softmax(ops.cast(path_logits, "float32"), axis=-1)
    return ops.take_along_axis(probabilities, path_label[:, None], axis=1)[:, 0]


def _path_gradients_tf(model, ids: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """`(embeddings [B, T, E], gradients [steps, B, T, E])` on TensorFlow."""
    embedded, path, path_mask, path_label = _path(model, tf.constant(ids), steps)
    with tf.GradientTape() as tape:
        tape.watch(path)
        probability = _label_probability(model, path, path_mask, path_label)
    gradients = tape.gradient(probability, path)
    return embedded.numpy(), np.reshape(gradients.numpy(), (steps, *embedded.shape))


def _path_gradients_jax(model, ids: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The same on JAX: the rows are independent, so the gradient of their sum is each one's."""
    import jax  # only on the JAX backend

    embedded, path, path_mask, path_label = _path(model, ids, steps)
    gradients = jax.grad(lambda p: ops.sum(_label_probability(model, p, path_mask, path_label)))(
        path
    )
    embedded = np.asarray(embedded)
    return embedded, np.reshape(np.asarray(gradients), (steps, *embedded.shape))


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
