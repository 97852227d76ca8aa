"""The call contract shared by every attention layer of the zoo.

Subclasses only say how a score is computed (`_score`) and, optionally, how the scores are
reshaped before the softmax (`_adjust_scores`); this base class does the rest the same way for
all of them: unpacking `[query, value, key]`, the 2-D "one decoder step" query, masking, the
numerically safe softmax, the context vector and the output mask.
"""

import keras
from keras import ops


def check_positive_int(name, value, allow_none=False):
    """Raise a `ValueError` naming `name` unless `value` is a positive integer."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, received {name}={value!r}.")


def check_choice(name, value, choices):
    """Raise a `ValueError` naming `name` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {sorted(choices)}, received {name}={value!r}.")


def padding_mask(token_ids):
    """`token_ids != 0`, except that an all-padding row keeps its first position.

    An empty text would otherwise reach the LSTMs fully masked, which cuDNN rejects (and which
    leaves nothing to attend to); reading one padding position gives it a defined output and
    changes nothing for the other rows.
    """
    mask = ops.not_equal(token_ids, 0)
    empty = ops.logical_not(ops.any(mask, axis=1, keepdims=True))
    first = ops.expand_dims(ops.equal(ops.arange(ops.shape(token_ids)[1]), 0), 0)
    return ops.logical_or(mask, ops.logical_and(empty, first))


def masked_softmax(scores, query_mask=None, value_mask=None, causal=False):
    """Softmax over the last axis that is exactly 0 on masked values.

    The softmax runs in float32 whatever the compute dtype (mixed precision would overflow on
    the large negative fill). A row whose values are all masked, or whose query is masked,
    comes out as zeros instead of NaN or a uniform distribution.

    Args:
        scores: `[batch, Tq, Tv]` scores.
        query_mask: optional boolean `[batch, Tq]`.
        value_mask: optional boolean `[batch, Tv]`.
        causal: whether query `i` may only see values `j <= i`.

    Returns:
        `[batch, Tq, Tv]` weights, in the dtype of `scores`.
    """
    dtype = scores.dtype
    scores = ops.cast(scores, "float32")
    keep = None
    if value_mask is not None:
        keep = ops.expand_dims(ops.cast(value_mask, "bool"), axis=-2)
    if query_mask is not None:
        query_keep = ops.expand_dims(ops.cast(query_mask, "bool"), axis=-1)
        keep = query_keep if keep is None else ops.logical_and(keep, query_keep)
    if causal:
        rows = ops.expand_dims(ops.arange(ops.shape(scores)[-2]), -1)
        columns = ops.expand_dims(ops.arange(ops.shape(scores)[-1]), 0)
        causal_keep = ops.expand_dims(columns <= rows, 0)
        keep = causal_keep if keep is None else ops.logical_and(keep, causal_keep)
    if keep is not None:
        scores = ops.where(keep, scores, -1e9)
    weights = ops.softmax(scores, axis=-1)
    if keep is not None:
        weights = weights * ops.cast(keep, "float32")
    return ops.cast(weights, dtype)


class BaseAttention(keras.layers.Layer):
    """Base class of the zoo's attention layers; not used directly.

    Subclasses implement `_score(query, keys)` returning `[batch, Tq, Tv]` from prepared keys
    (a score that needs more, such as the previous step's weights, takes them as keyword
    arguments of `call`, passed on to `_score`),
    and may override `prepare_keys(key)` (what of the score depends on the keys alone, e.g.
    their projection) and `_adjust_scores(scores, query, value_mask)` (local attention).

    A decoder that attends over the same memory at every step calls `prepare_keys(memory)`
    once and passes the result as the key with `keys_prepared=True`, so the per-key work is
    not repeated at every step.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    # -- input handling -------------------------------------------------------------------

    def _unpack(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(
                f"{self.__class__.__name__} expects a list [query, value] or "
                f"[query, value, key], received {_describe(inputs)}."
            )
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        return query, value, key

    def _unpack_shapes(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) not in (2, 3):
            raise ValueError(
                f"{self.__class__.__name__} expects a list [query, value] or "
                f"[query, value, key], received input shape {input_shape}."
            )
        if all(isinstance(d, int) or d is None for d in input_shape):
            raise ValueError(
                f"{self.__class__.__name__} expects a list [query, value] or "
                f"[query, value, key], received a single input of shape {input_shape}."
            )
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        key_shape = tuple(input_shape[2]) if len(input_shape) == 3 else value_shape
        if len(query_shape) not in (2, 3):
            raise ValueError(
                "`query` must have rank 2 [batch, dim] or 3 [batch, Tq, dim], "
                f"received query shape {query_shape}."
            )
        for name, shape in (("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"`{name}` must have rank 3 [batch, Tv, dim], received {name} shape {shape}."
                )
        batches = {s[0] for s in (query_shape, value_shape, key_shape) if s[0] is not None}
        if len(batches) > 1:
            raise ValueError(
                "`query`, `value` and `key` must have the same batch size, received shapes "
                f"query={query_shape}, value={value_shape}, key={key_shape}."
            )
        if None not in (key_shape[1], value_shape[1]) and key_shape[1] != value_shape[1]:
            raise ValueError(
                "`key` and `value` must have the same length Tv, received shapes "
                f"key={key_shape}, value={value_shape}."
            )
        return query_shape, value_shape, key_shape

    @staticmethod
    def _unpack_mask(mask):
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)):
            raise ValueError(
                "`mask` must be a list [query_mask, value_mask] (either may be None), "
                f"received {_describe(mask)}."
            )
        query_mask = mask[0] if len(mask) > 0 else None
        value_mask = mask[1] if len(mask) > 1 else None
        return query_mask, value_mask

    # -- the shared computation ----------------------------------------------------------

    def prepare_keys(self, key):
        """The part of the score that depends on the keys alone, `[batch, Tv, ...]`."""
        return key

    def _score(self, query, keys, **score_inputs):
        raise NotImplementedError

    def _adjust_scores(self, scores, query, value_mask):
        return scores

    def call(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
        keys_prepared=False,
        **score_inputs,
    ):
        query, value, key = self._unpack(inputs)
        query_mask, value_mask = self._unpack_mask(mask)
        single_step = len(query.shape) == 2
        if single_step:
            query = ops.expand_dims(query, axis=1)
            if query_mask is not None:
                query_mask = ops.expand_dims(query_mask, axis=1)
        keys = key if keys_prepared else self.prepare_keys(key)
        scores = self._score(query, keys, **score_inputs)
        scores = self._adjust_scores(scores, query, value_mask)
        weights = masked_softmax(scores, query_mask, value_mask, causal=use_causal_mask)
        weights = ops.cast(weights, self.compute_dtype)
        context = ops.matmul(weights, ops.cast(value, weights.dtype))
        if single_step:
            context = ops.squeeze(context, axis=1)
            weights = ops.squeeze(weights, axis=1)
        if return_attention_scores:
            return context, weights
        return context

    def compute_mask(self, inputs, mask=None):
        query_mask, _ = self._unpack_mask(mask)
        if query_mask is None or len(inputs[0].shape) == 2:
            return None
        return ops.convert_to_tensor(query_mask)

    def compute_output_shape(self, input_shape):
        query_shape, value_shape, _ = self._unpack_shapes(input_shape)
        return (*query_shape[:-1], value_shape[-1])

    def compute_output_spec(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
        keys_prepared=False,
        **score_inputs,
    ):
        query, value, key = self._unpack(inputs)
        context_shape = (*query.shape[:-1], value.shape[-1])
        context = keras.KerasTensor(context_shape, dtype=self.compute_dtype)
        if not return_attention_scores:
            return context
        weights_shape = (*query.shape[:-1], key.shape[1])
        return context, keras.KerasTensor(weights_shape, dtype=self.compute_dtype)


def _describe(value):
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    shape = getattr(value, "shape", None)
    return f"a {type(value).__name__} of shape {tuple(shape)}" if shape is not None else repr(value)
