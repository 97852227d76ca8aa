"""Luong (multiplicative) attention: dot, general and concat scores; global or local-p."""

import keras
from keras import ops

from zoo.layers.base_attention import BaseAttention, check_choice, check_positive_int

SCORES = ("dot", "general", "concat")


@keras.saving.register_keras_serializable(package="lstm_zoo")
class LuongAttention(BaseAttention):
    """Global and local-p attention of Luong et al. (2015).

    The score of query `q` against key `k` is one of

        dot:      score(q, k) = q^T k
        general:  score(q, k) = q^T W k
        concat:   score(q, k) = v^T tanh(W [q; k])   (W split as W_q q + W_k k)

    With `scale=True` the score is multiplied by a learned scalar `g` (initialized to 1;
    TensorFlow Addons' "scaled Luong"). The weights are the softmax of the scores over the
    unmasked keys ("global" attention).

    With `window=D`, the layer is Luong's local-p attention: it predicts an aligned position

        p = S * sigmoid(v_p^T tanh(W_p q))

    where `S` is the unmasked source length of each example, keeps only the keys `s` with
    `|s - p| <= D`, and favours those near `p` with a Gaussian of `sigma = D / 2`. The paper
    multiplies the windowed softmax by `exp(-(s - p)^2 / (2 sigma^2))`; here the Gaussian's log
    is added to the scores before the softmax, which is the same up to normalization and keeps
    the zoo-wide contract that weights sum to 1.

    `keras.layers.Attention` is this layer's "dot" score without the local variant.

    Args:
        score: One of `"dot"`, `"general"`, `"concat"`. `"dot"` needs query and key of the
            same size.
        scale: Boolean, whether to learn a scalar multiplying the scores.
        window: Optional positive integer `D`, the half-width of the local-p window. `None`
            (default) is global attention.
        units: Positive integer, the hidden size of the `"concat"` score and of the local-p
            position predictor. Defaults to the query size.
        kernel_initializer: Initializer for the learned matrices and vectors.
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

    >>> query = keras.random.normal((2, 8))          # one decoder step
    >>> memory = keras.random.normal((2, 6, 8))
    >>> context, weights = LuongAttention("general", window=2)(
    ...     [query, memory], return_attention_scores=True)
    >>> tuple(context.shape), tuple(weights.shape)
    ((2, 8), (2, 6))

    Reference:
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025), "Effective Approaches to
          Attention-based Neural Machine Translation".
    """

    def __init__(
        self,
        score="general",
        scale=False,
        window=None,
        units=None,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("score", score, SCORES)
        check_positive_int("window", window, allow_none=True)
        check_positive_int("units", units, allow_none=True)
        self.score = score
        self.scale = bool(scale)
        self.window = window
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        query_shape, _, key_shape = self._unpack_shapes(input_shape)
        query_dim, key_dim = query_shape[-1], key_shape[-1]
        units = self.units or query_dim
        if self.score == "dot" and query_dim != key_dim:
            raise ValueError(
                'score="dot" needs query and key of the same size, received query size '
                f'{query_dim} and key size {key_dim}; use score="general" to learn a projection.'
            )
        if self.score == "general":
            self.kernel = self.add_weight(
                name="kernel", shape=(query_dim, key_dim), initializer=self.kernel_initializer
            )
        elif self.score == "concat":
            self.query_kernel = self.add_weight(
                name="query_kernel", shape=(query_dim, units), initializer=self.kernel_initializer
            )
            self.key_kernel = self.add_weight(
                name="key_kernel", shape=(key_dim, units), initializer=self.kernel_initializer
            )
            self.score_vector = self.add_weight(
                name="score_vector", shape=(units,), initializer=self.kernel_initializer
            )
        if self.scale:
            self.score_gain = self.add_weight(name="score_gain", shape=(), initializer="ones")
        if self.window is not None:
            self.position_kernel = self.add_weight(
                name="position_kernel",
                shape=(query_dim, units),
                initializer=self.kernel_initializer,
            )
            self.position_vector = self.add_weight(
                name="position_vector", shape=(units,), initializer=self.kernel_initializer
            )

    def prepare_keys(self, key):
        if self.score == "concat":
            return ops.matmul(key, self.key_kernel)  # [B, Tv, units]
        return key

    def _score(self, query, keys):
        if self.score == "dot":
            scores = ops.matmul(query, ops.transpose(keys, (0, 2, 1)))
        elif self.score == "general":
            # (q W) k^T: one projection per query, not one per key at every step.
            scores = ops.matmul(ops.matmul(query, self.kernel), ops.transpose(keys, (0, 2, 1)))
        else:
            hidden = ops.tanh(
                ops.expand_dims(ops.matmul(query, self.query_kernel), 2) + ops.expand_dims(keys, 1)
            )
            scores = ops.sum(hidden * self.score_vector, axis=-1)
        if self.scale:
            scores = scores * self.score_gain
        return scores

    def predicted_position(self, query, value_mask, value_length):
        """Local-p's aligned position `p = S * sigmoid(v_p^T tanh(W_p q))`, `[batch, Tq]`."""
        hidden = ops.tanh(ops.matmul(query, self.position_kernel))
        fraction = ops.sigmoid(ops.sum(hidden * self.position_vector, axis=-1))
        if value_mask is None:
            source_length = ops.cast(value_length, "float32")
        else:
            source_length = ops.sum(ops.cast(value_mask, "float32"), axis=-1, keepdims=True)
        return ops.cast(fraction, "float32") * source_length

    def _adjust_scores(self, scores, query, value_mask):
        if self.window is None:
            return scores
        value_length = ops.shape(scores)[-1]
        position = self.predicted_position(query, value_mask, value_length)  # [B, Tq]
        source_positions = ops.cast(ops.arange(value_length), "float32")
        distance = source_positions[None, None, :] - position[:, :, None]  # [B, Tq, Tv]
        sigma = self.window / 2.0
        scores = ops.cast(scores, "float32") - ops.square(distance) / (2.0 * sigma**2)
        in_window = ops.abs(distance) <= float(self.window)
        return ops.where(in_window, scores, ops.full_like(scores, -1e9))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "score": self.score,
                "scale": self.scale,
                "window": self.window,
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
