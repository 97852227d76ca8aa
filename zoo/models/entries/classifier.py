"""Text classification entries: `lstm_classifier` and its attention-pooling models.

Plain Python, as every entries module is (see `zoo.models.entries`).
"""

from __future__ import annotations

from zoo.registry import register
from zoo.search_space import Choice, Float, Int

# Sizes for `rt-polarity` (short snippets, few examples: regularize hard) on a laptop CPU;
# vocab_size and num_classes come from the data.
_COMMON = {
    "vocab_size": 20_000,
    "num_classes": 2,
    "embedding_dim": 64,
    "units": 64,
    "num_layers": 1,
    "dropout": 0.5,
    "hidden_units": 64,
}
# rt-polarity snippets average 18.5 words; validation accuracy peaks after a few epochs.
_TRAINING = {"epochs": 8, "learning_rate": 1e-3, "patience": 2, "max_source_length": 60}
_SPACE = {
    "embedding_dim": Choice([64, 128, 256]),
    "units": Choice([32, 64, 128]),
    "num_layers": Int(1, 2),
    "dropout": Float(0.0, 0.5, step=0.1),
    "learning_rate": Float(3e-4, 1e-2, log=True),
    "batch_size": Choice([32, 64, 128]),
}
_ATTENTION_SPACE = {**_SPACE, "attention_units": Choice([32, 64, 128])}


@register(
    "lstm_classifier",
    task="classification",
    attention="none",
    paper="Graves & Schmidhuber 2005 (BiLSTM); max pooling over time",
    default_data="rt-polarity",
    defaults=_COMMON,
    training=_TRAINING,
    search_space=_SPACE,
)
def lstm_classifier(**config):
    """BiLSTM with masked max pooling over time: the no-attention baseline."""
    from zoo.models.classifier import TextClassifier

    return TextClassifier(
        pooling="max",
        attention_units=None,  # no attention, so no attention arguments
        heads=None,
        penalty=0.0,
        name="lstm_classifier",
        **config,
    )


@register(
    "lstm_attention_classifier",
    task="classification",
    attention="additive",
    twin="lstm_classifier",
    paper="Zhou et al. 2016; Yang et al. 2016",
    default_data="rt-polarity",
    defaults={**_COMMON, "attention_units": 64},
    training=_TRAINING,
    search_space=_ATTENTION_SPACE,
)
def lstm_attention_classifier(**config):
    """BiLSTM with additive attention pooling: one learned query weighs the words."""
    from zoo.models.classifier import TextClassifier

    return TextClassifier(
        pooling="attention", heads=1, penalty=0.0, name="lstm_attention_classifier", **config
    )


@register(
    "lstm_selfattn_classifier",
    task="classification",
    attention="structured",
    twin="lstm_classifier",
    paper="Lin et al. 2017",
    default_data="rt-polarity",
    defaults={**_COMMON, "attention_units": 64, "heads": 4, "penalty": 0.1},
    training=_TRAINING,
    search_space={
        **_ATTENTION_SPACE,
        "heads": Choice([2, 4, 8]),
        "penalty": Choice([0.0, 0.1, 1.0]),
    },
)
def lstm_selfattn_classifier(**config):
    """BiLSTM with structured self-attention: r hops and the redundancy penalty."""
    from zoo.models.classifier import TextClassifier

    return TextClassifier(pooling="attention", name="lstm_selfattn_classifier", **config)
