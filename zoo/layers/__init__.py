"""Attention layers of lstm-zoo, written in `keras.ops` for every Keras 3 backend."""

from zoo.layers.attention_cell import AttentionCell
from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.location_sensitive_attention import LocationSensitiveAttention
from zoo.layers.luong_attention import LuongAttention
from zoo.layers.self_attention import SelfAttention
from zoo.layers.structured_self_attention import StructuredSelfAttention

__all__ = [
    "AttentionCell",
    "BahdanauAttention",
    "LocationSensitiveAttention",
    "LuongAttention",
    "SelfAttention",
    "StructuredSelfAttention",
]
