"""Translation entries: `lstm_nmt` and its attention models (Bahdanau, Luong).

Plain Python, as every entries module is (see `zoo.models.entries`).
"""

from __future__ import annotations

from zoo.registry import register
from zoo.search_space import Choice, Float, Int

# Sizes for the character-level `dates` task on a laptop CPU (>= 99% exact match in minutes);
# the vocabulary sizes are replaced by the data's.
_COMMON = {
    "source_vocab_size": 512,
    "target_vocab_size": 32,
    "embedding_dim": 64,
    "units": 128,
    "num_layers": 1,
    "dropout": 0.1,
    "reverse_source": False,
}
_TRAINING = {"epochs": 10, "patience": 3}
_SPACE = {
    "embedding_dim": Choice([32, 64, 128]),
    "units": Choice([64, 128, 256]),
    "num_layers": Int(1, 2),
    "dropout": Float(0.0, 0.4, step=0.1),
    "learning_rate": Float(3e-4, 1e-2, log=True),
    "batch_size": Choice([32, 64, 128]),
}

_LUONG = {
    **_COMMON,
    "bidirectional": False,
    "attention_score": "general",
    "attention_window": None,
    "attention_units": None,
}
_LUONG_SPACE = {**_SPACE, "attention_score": Choice(["dot", "general", "concat"])}


@register(
    "lstm_nmt",
    task="translation",
    attention="none",
    paper="Sutskever et al. 2014; Cho et al. 2014",
    default_data="dates",
    defaults={**_COMMON, "bidirectional": False, "feed_context": False},
    training=_TRAINING,
    search_space=_SPACE,
)
def lstm_nmt(**config):
    """LSTM encoder-decoder without attention: the source is squeezed into the final state."""
    from zoo.models.seq2seq import Seq2Seq

    # No attention, so no attention arguments (keras-hub style, the class has no defaults).
    return Seq2Seq(
        attention=None,
        attention_units=None,
        attention_score=None,
        attention_window=None,
        input_feeding=False,
        name="lstm_nmt",
        **config,
    )


@register(
    "lstm_bahdanau_nmt",
    task="translation",
    attention="bahdanau",
    twin="lstm_nmt",
    paper="Bahdanau et al. 2015",
    default_data="dates",
    defaults={**_COMMON, "bidirectional": True, "attention_units": 128},
    training=_TRAINING,
    search_space={**_SPACE, "attention_units": Choice([64, 128, 256])},
)
def lstm_bahdanau_nmt(**config):
    """BiLSTM encoder, additive attention from the previous decoder state fed into the step."""
    from zoo.models.seq2seq import Seq2Seq

    return Seq2Seq(
        attention="bahdanau",
        attention_score=None,  # Luong's options
        attention_window=None,
        input_feeding=False,  # the context is fed into the step by construction
        feed_context=False,
        name="lstm_bahdanau_nmt",
        **config,
    )


@register(
    "lstm_luong_nmt",
    task="translation",
    attention="luong",
    twin="lstm_nmt",
    paper="Luong et al. 2015",
    default_data="dates",
    defaults={**_LUONG, "input_feeding": True},
    training=_TRAINING,
    search_space=_LUONG_SPACE,
)
def lstm_luong_nmt(**config):
    """Stacked LSTM, global (or local-p) multiplicative attention with input feeding."""
    from zoo.models.seq2seq import Seq2Seq

    return Seq2Seq(attention="luong", feed_context=False, name="lstm_luong_nmt", **config)


@register(
    "lstm_luong_fast_nmt",
    task="translation",
    attention="luong",
    twin="lstm_nmt",
    paper="Luong et al. 2015 (without input feeding)",
    default_data="dates",
    defaults={**_LUONG, "input_feeding": False},
    training=_TRAINING,
    search_space=_LUONG_SPACE,
)
def lstm_luong_fast_nmt(**config):
    """Luong attention without input feeding: the decoder trains as one fused LSTM pass."""
    from zoo.models.seq2seq import Seq2Seq

    return Seq2Seq(attention="luong", feed_context=False, name="lstm_luong_fast_nmt", **config)
