"""Structured self-attentive pooling (Lin et al., 2017), with attention pooling as heads=1."""

import keras
from keras import ops

from zoo.layers.base_attention import check_positive_int, masked_softmax


@keras.saving.register_keras_serializable(package="lstm_zoo")
class StructuredSelfAttention(keras.layers.Layer):
    """Pools a sequence into `heads` vectors with learned attention (Lin et al., 2017).

    For LSTM states `H` (`[T, dim]` per example),

        A = softmax(W_2 tanh(W_1 H^T))      # [heads, T], softmax over T
        M = A H                             # [heads, dim]

    With `penalty > 0`, the layer adds `penalty * ||A A^T - I||_F^2` (mean over the batch)
    to the model's losses, which pushes the heads to look at different positions. With
    `heads=1` and no penalty this is the attention pooling of Zhou et al. (2016) and Yang et
    al. (2016): one learned query that weighs the positions of the sequence.

    Args:
        units: Positive integer `d_a`, the hidden size (rows of `W_1`).
        heads: Positive integer `r`, the number of attention hops.
        penalty: Non-negative float, the coefficient of the redundancy penalty.
        kernel_initializer: Initializer for `W_1` and `W_2`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: The sequence `H`, `[batch, T, dim]`.
        mask: Optional boolean `[batch, T]`; masked positions get weight exactly 0, and an
            example with every position masked gets zero weights and a zero output.
        return_attention_scores: Boolean, whether to also return `A`.
        training: Unused; accepted for API compatibility.

    Returns:
        `M`, `[batch, heads, dim]`, and with `return_attention_scores=True` also `A`,
        `[batch, heads, T]`.

    Example:

    >>> states = keras.random.normal((2, 7, 16))
    >>> pooled, weights = StructuredSelfAttention(units=8, heads=3, penalty=1.0)(
    ...     states, return_attention_scores=True)
    >>> tuple(pooled.shape), tuple(weights.shape)
    ((2, 3, 16), (2, 3, 7))

    Reference:
        - [Lin et al., 2017](https://arxiv.org/abs/1703.03130), "A Structured Self-attentive
          Sentence Embedding".
        - [Zhou et al., 2016](https://aclanthology.org/P16-2034/), "Attention-Based
          Bidirectional Long Short-Term Memory Networks for Relation Classification".
        - [Yang et al., 2016](https://aclanthology.org/N16-1174/), "Hierarchical Attention
          Networks for Document Classification".
    """

    def __init__(self, units, heads=1, penalty=0.0, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        check_positive_int("units", units)
        check_positive_int("heads", heads)
        if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or penalty < 0:
            raise ValueError(
                f"`penalty` must be a non-negative number, received penalty={penalty!r}."
            )
        self.units = units
        self.heads = heads
        self.penalty = float(penalty)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        if (
            isinstance(input_shape, (list, tuple))
            and input_shape
            and not all(isinstance(d, int) or d is None for d in input_shape)
        ):
            raise ValueError(
                "StructuredSelfAttention expects one sequence [batch, T, dim], received a "
                f"list of {len(input_shape)} inputs."
            )
        if len(input_shape) != 3:
            raise ValueError(
                "StructuredSelfAttention expects a sequence of rank 3 [batch, T, dim], "
                f"received shape {tuple(input_shape)}."
            )
        self.hidden_kernel = self.add_weight(
            name="hidden_kernel",
            shape=(input_shape[-1], self.units),
            initializer=self.kernel_initializer,
        )
        self.head_kernel = self.add_weight(
            name="head_kernel", shape=(self.units, self.heads), initializer=self.kernel_initializer
        )

    def call(self, inputs, mask=None, training=None, return_attention_scores=False):
        hidden = ops.tanh(ops.matmul(inputs, self.hidden_kernel))  # [B, T, units]
        scores = ops.transpose(ops.matmul(hidden, self.head_kernel), (0, 2, 1))  # [B, r, T]
        weights = ops.cast(masked_softmax(scores, value_mask=mask), self.compute_dtype)
        pooled = ops.matmul(weights, inputs)
        if self.penalty > 0:
            self.add_loss(self.penalty * self.redundancy(weights))
        if return_attention_scores:
            return pooled, weights
        return pooled

    def redundancy(self, weights):
        """`||A A^T - I||_F^2` averaged over the batch, in float32."""
        weights = ops.cast(weights, "float32")
        gram = ops.matmul(weights, ops.transpose(weights, (0, 2, 1)))
        identity = ops.eye(self.heads, dtype="float32")
        return ops.mean(ops.sum(ops.square(gram - identity), axis=(1, 2)))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_spec(self, inputs, mask=None, training=None, return_attention_scores=False):
        pooled = keras.KerasTensor(
            (inputs.shape[0], self.heads, inputs.shape[-1]), dtype=self.compute_dtype
        )
        if not return_attention_scores:
            return pooled
        weights = keras.KerasTensor(
            (inputs.shape[0], self.heads, inputs.shape[1]), dtype=self.compute_dtype
        )
        return pooled, weights

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "heads": self.heads,
                "penalty": self.penalty,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
