"""Location-sensitive attention: additive attention that also sees the previous alignment."""

import keras
from keras import ops

from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.base_attention import check_positive_int


@keras.saving.register_keras_serializable(package="lstm_zoo")
class LocationSensitiveAttention(BahdanauAttention):
    """Additive attention with location features (Chorowski et al. 2015).

    The score of query `q` against key `k_j` also sees convolutional features `f_j` of the
    previous step's attention weights around position `j`:

        f = conv1d(previous_weights, F)          # `filters` features per position
        score(q, k_j) = v^T tanh(W_q q + W_k k_j + U f_j + b)

    so the alignment can learn to move forward from where it was, which keeps long inputs
    such as speech from being skipped or attended twice. Passing the cumulative sum of past
    weights instead of the last step's (as Tacotron 2 does) is up to the caller. Without
    `previous_weights` the location term is zero and the layer is `BahdanauAttention`.

    Args:
        units: Positive integer, size of the hidden layer of the score.
        filters: Positive integer, number of location features per position.
        kernel_size: Positive integer, width of the convolution over the previous weights
            (zero-padded so every position gets features).
        normalize: Boolean, whether to weight-normalize `v` (see `BahdanauAttention`).
        kernel_initializer: Initializer for the kernels and `v`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: List `[query, value]` or `[query, value, key]`, as for `BahdanauAttention`.
        previous_weights: Optional attention weights of the previous step, `[batch, Tv]`
            (the same for every query) or `[batch, Tq, Tv]`.
        mask: Optional list `[query_mask, value_mask]`; masked values get weight exactly 0.
        return_attention_scores: Boolean, whether to also return the weights.
        keys_prepared: Whether `key` is already `prepare_keys(key)` (a decoder prepares the
            keys once per utterance).
        training: Unused; accepted for API compatibility.

    Returns:
        The context `[batch, Tq, dv]` (or `[batch, dv]`), and with
        `return_attention_scores=True` also the weights `[batch, Tq, Tv]` (or `[batch, Tv]`).

    Example:

    >>> query = keras.random.normal((2, 8))
    >>> value = keras.random.normal((2, 30, 16))
    >>> previous = keras.ops.one_hot(keras.ops.array([3, 7]), 30)
    >>> layer = LocationSensitiveAttention(units=10, filters=4, kernel_size=5)
    >>> context, weights = layer([query, value], previous_weights=previous,
    ...                          return_attention_scores=True)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 16), (2, 30))

    Reference:
        - [Chorowski et al., 2015](https://arxiv.org/abs/1506.07503), "Attention-Based
          Models for Speech Recognition".
    """

    def __init__(
        self,
        units,
        filters=32,
        kernel_size=31,
        normalize=False,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(
            units, normalize=normalize, kernel_initializer=kernel_initializer, **kwargs
        )
        check_positive_int("filters", filters)
        check_positive_int("kernel_size", kernel_size)
        self.filters = filters
        self.kernel_size = kernel_size

    def build(self, input_shape):
        super().build(input_shape)
        self.location_kernel = self.add_weight(
            name="location_kernel",
            shape=(self.kernel_size, 1, self.filters),
            initializer=self.kernel_initializer,
        )
        self.location_projection = self.add_weight(
            name="location_projection",
            shape=(self.filters, self.units),
            initializer=self.kernel_initializer,
        )

    def location_features(self, previous_weights):
        """`U conv1d(previous_weights)`: `[batch, Tq, Tv, units]` (`Tq` may be 1, broadcast)."""
        weights = ops.cast(previous_weights, self.compute_dtype)
        if len(weights.shape) == 2:
            weights = ops.expand_dims(weights, 1)
        elif len(weights.shape) != 3:
            raise ValueError(
                "`previous_weights` must be [batch, Tv] or [batch, Tq, Tv], received shape "
                f"{tuple(weights.shape)}."
            )
        batch, steps, length = ops.shape(weights)[0], ops.shape(weights)[1], ops.shape(weights)[2]
        flat = ops.reshape(weights, (-1, length, 1))
        features = ops.conv(flat, self.location_kernel, strides=1, padding="same")
        features = ops.matmul(features, self.location_projection)  # [B * Tq, Tv, U]
        return ops.reshape(features, (batch, steps, length, self.units))

    def _score(self, query, keys, previous_weights=None):
        query_features = ops.expand_dims(ops.matmul(query, self.query_kernel), 2)  # [B,Tq,1,U]
        hidden = query_features + ops.expand_dims(keys, 1)
        if previous_weights is not None:
            hidden = hidden + self.location_features(previous_weights)
        v = self.score_vector
        if self.normalize:
            v = self.score_gain * v / ops.sqrt(ops.sum(ops.square(v)))
        return ops.sum(ops.tanh(hidden) * v, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size})
        return config
