"""Self-attention over one sequence with an additive, dot or general score."""

import keras

from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.base_attention import check_choice, check_positive_int
from zoo.layers.luong_attention import LuongAttention

SCORES = ("additive", "dot", "general")


@keras.saving.register_keras_serializable(package="lstm_zoo")
class SelfAttention(keras.layers.Layer):
    """Each position of a sequence attends over the whole sequence.

    For a sequence `H = [h_1 .. h_T]`, position `i` gets `sum_j a_ij h_j` with
    `a_i = softmax_j(score(h_i, h_j))`, where the score is Bahdanau's additive one
    (`v^T tanh(W_q h_i + W_k h_j + b)`) or Luong's `dot` (`h_i^T h_j`) or `general`
    (`h_i^T W h_j`). With `causal=True`, position `i` only sees `j <= i`, as in a decoder or
    a forecaster that must not look ahead. The output is a sequence of the input's length
    and carries the input's mask.

    Args:
        score: One of `"additive"` (default), `"dot"`, `"general"`.
        units: Positive integer, hidden size of the additive score. Defaults to the input
            size.
        causal: Boolean, whether to hide later positions.
        kernel_initializer: Initializer for the learned matrices and vectors.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: The sequence `[batch, T, dim]`, or a list `[query, value]` /
            `[query, value, key]` to attend from one sequence over another.
        mask: Optional boolean `[batch, T]` for a single sequence, or a list
            `[query_mask, value_mask]`.
        return_attention_scores: Boolean, whether to also return the weights.
        training: Unused; accepted for API compatibility.

    Returns:
        The attended sequence `[batch, T, dim]`, and with `return_attention_scores=True`
        also the weights `[batch, T, T]`.

    Example:

    >>> tokens = keras.random.normal((2, 5, 8))
    >>> outputs, weights = SelfAttention("dot", causal=True)(
    ...     tokens, return_attention_scores=True)
    >>> tuple(outputs.shape), tuple(weights.shape)
    ((2, 5, 8), (2, 5, 5))

    Reference:
        - [Cheng et al., 2016](https://arxiv.org/abs/1601.06733), "Long Short-Term
          Memory-Networks for Machine Reading" (intra-attention over an LSTM's states).
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473) and
          [Luong et al., 2015](https://arxiv.org/abs/1508.04025) for the scores.
    """

    def __init__(
        self,
        score="additive",
        units=None,
        causal=False,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice("score", score, SCORES)
        check_positive_int("units", units, allow_none=True)
        self.score = score
        self.units = units
        self.causal = bool(causal)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True
        self._attention = None

    def _sequences(self, inputs):
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        return [inputs, inputs]

    @staticmethod
    def _masks(mask):
        if mask is None or isinstance(mask, (list, tuple)):
            return mask
        return [mask, mask]

    def build(self, input_shape):
        is_list = isinstance(input_shape, (list, tuple)) and not all(
            isinstance(d, int) or d is None for d in input_shape
        )
        shapes = list(input_shape) if is_list else [input_shape, input_shape]
        for name, shape in zip(("query", "value"), shapes, strict=False):
            if len(shape) != 3:
                raise ValueError(
                    f"SelfAttention expects sequences of rank 3 [batch, T, dim], received "
                    f"{name} shape {tuple(shape)}."
                )
        units = self.units or shapes[0][-1]
        common = {"kernel_initializer": self.kernel_initializer, "dtype": self.dtype_policy}
        if self.score == "additive":
            self._attention = BahdanauAttention(units, name="additive", **common)
        else:
            self._attention = LuongAttention(self.score, name=self.score, **common)
        self._attention.build(shapes)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        return self._attention(
            self._sequences(inputs),
            mask=self._masks(mask),
            return_attention_scores=return_attention_scores,
            use_causal_mask=self.causal,
        )

    def compute_mask(self, inputs, mask=None):
        masks = self._masks(mask)
        return None if masks is None else masks[0]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "score": self.score,
                "units": self.units,
                "causal": self.causal,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
