"""Bahdanau (additive) attention with learned projections."""

import math

import keras
from keras import ops

from zoo.layers.base_attention import BaseAttention, check_positive_int


@keras.saving.register_keras_serializable(package="lstm_zoo")
class BahdanauAttention(BaseAttention):
    """Additive attention of Bahdanau et al. (2015).

    The score of query `q` against key `k` is

        score(q, k) = v^T tanh(W_q q + W_k k + b)

    and the weights are its softmax over the (unmasked) keys. With `normalize=True`, `v` is
    replaced by `g * v / ||v||` with a learned scalar `g` (weight normalization, Salimans &
    Kingma 2016; TensorFlow Addons' "normed Bahdanau").

    Unlike `keras.layers.AdditiveAttention`, which adds query and key as they are, this layer
    learns `W_q`, `W_k`, `b` and `v`, as in the paper.

    Args:
        units: Positive integer, size of the hidden layer of the score (the rows of `W_q`
            and `W_k`).
        normalize: Boolean, whether to weight-normalize `v`.
        kernel_initializer: Initializer for `W_q`, `W_k` and `v`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: List `[query, value]` or `[query, value, key]`. `query` is `[batch, Tq, dq]`
            or, for one decoder step, `[batch, dq]`; `value` is `[batch, Tv, dv]`; `key`
            (default: `value`) is `[batch, Tv, dk]`.
        mask: Optional list `[query_mask, value_mask]` of booleans `[batch, Tq]` and
            `[batch, Tv]`. Masked values get weight exactly 0; a masked query, or a query
            whose values are all masked, gets all-zero weights and a zero context.
        return_attention_scores: Boolean, whether to also return the weights.
        use_causal_mask: Boolean, whether query `i` may only attend to values `j <= i`
            (for self-attention over one sequence).
        training: Unused; accepted for API compatibility.

    Returns:
        The context `[batch, Tq, dv]` (or `[batch, dv]`), and with
        `return_attention_scores=True` also the weights `[batch, Tq, Tv]` (or `[batch, Tv]`).

    Example:

    >>> query = keras.random.normal((2, 4, 8))
    >>> value = keras.random.normal((2, 6, 16))
    >>> context, weights = BahdanauAttention(units=10)(
    ...     [query, value], return_attention_scores=True)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 4, 16), (2, 4, 6))

    Reference:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473), "Neural Machine
          Translation by Jointly Learning to Align and Translate".
    """

    def __init__(self, units, normalize=False, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        self.units = units
        self.normalize = bool(normalize)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        query_shape, _, key_shape = self._unpack_shapes(input_shape)
        self.query_kernel = self.add_weight(
            name="query_kernel",
            shape=(query_shape[-1], self.units),
            initializer=self.kernel_initializer,
        )
        self.key_kernel = self.add_weight(
            name="key_kernel",
            shape=(key_shape[-1], self.units),
            initializer=self.kernel_initializer,
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.score_vector = self.add_weight(
            name="score_vector", shape=(self.units,), initializer=self.kernel_initializer
        )
        if self.normalize:
            self.score_gain = self.add_weight(
                name="score_gain",
                shape=(),
                initializer=keras.initializers.Constant(math.sqrt(1.0 / self.units)),
            )

    def prepare_keys(self, key):
        return ops.matmul(key, self.key_kernel) + self.bias  # [B, Tv, U]

    def _score(self, query, keys):
        query_features = ops.matmul(query, self.query_kernel)  # [B, Tq, U]
        hidden = ops.tanh(ops.expand_dims(query_features, 2) + ops.expand_dims(keys, 1))
        v = self.score_vector
        if self.normalize:
            v = self.score_gain * v / ops.sqrt(ops.sum(ops.square(v)))
        return ops.sum(hidden * v, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "normalize": self.normalize,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
