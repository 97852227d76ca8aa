"""Decoding for any model that speaks the decoder protocol: greedy and beam search (n-best
lists, length and coverage penalties, length and token constraints) and sampling.

The model protocol (what `zoo.models.Seq2Seq` and `zoo.models.ListenAttendSpell` provide):
    `encode(source) -> (memory, memory_mask [B, Ts], state: nested lists of [B, ...])`, where
        `memory` is any structure (tensor, dict...) of `[B, Ts, ...]` tensors
    `decode_step(tokens [B], state, memory, memory_mask) -> (logits [B, V], state, weights [B, Ts])`
    `target_vocab_size`: V
"""

from zoo.decoding.beam import (
    Decoded,
    beam_search,
    greedy_search,
    length_penalty_of,
    max_output_length,
)
from zoo.decoding.compiled import compiled_search
from zoo.decoding.constraints import NEVER_EMITTED
from zoo.decoding.lexicon import lexicon_table
from zoo.decoding.sampling import sample

__all__ = [
    "NEVER_EMITTED",
    "Decoded",
    "beam_search",
    "compiled_search",
    "greedy_search",
    "length_penalty_of",
    "lexicon_table",
    "max_output_length",
    "sample",
]
