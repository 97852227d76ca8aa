"""Padding edges chosen from the data: few compiled shapes, few wasted steps.

A compiled (XLA) training step compiles once per input shape, so batches are padded up to
one of a few lengths ("edges"). Fixed edges waste steps where the data's lengths fall just
past one: every `dates` target has 12 decoder steps and was padded to 16 (multiples of 8),
a third of the decoder's work spent on padding. Here the edges are chosen from the lengths
the batches will have, by dynamic programming: the fewest edges whose padding costs at most
`max_waste` padded steps per real step, at most `max_edges` of them (the cost of each: one
more compilation). Plain numpy; the pipeline applies the edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Upper bounds (in tokens, the longer side) of the similar-length buckets `bucket_by_length`
# batches pairs in. Kept fixed: they decide which pairs train together, and so the results.
BUCKET_BOUNDARIES = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)
MAX_WASTE = 1.10  # padded steps per real step the edges aim at (the bound: 1.15)
MAX_EDGES = 8  # per side: each edge is one more compiled shape


def batch_maxima(
    lengths: np.ndarray,
    batch_size: int,
    seed: int = 0,
    epochs: int = 3,
    keys: np.ndarray | None = None,
    buckets: Sequence[int] = (),
) -> np.ndarray:
    """The longest lengths of each batch of shuffled data, over a few shuffles: what a
    batch is padded from. `lengths` `[n]` or `[n, sides]` (the maximum per side); with
    `buckets`, batches hold rows whose `keys` fall in the same bucket (up to each bound), as
    `tf.data`'s `bucket_by_sequence_length` makes them."""
    lengths = np.asarray(lengths)
    groups = [np.arange(len(lengths))]
    if buckets:
        index = np.searchsorted(np.asarray(buckets), np.asarray(keys), side="left")
        groups = [np.flatnonzero(index == b) for b in range(len(buckets) + 1)]
    rng = np.random.default_rng(seed)
    maxima = []
    for _ in range(epochs):
        for group in groups:
            if not len(group):
                continue
            shuffled = lengths[group[rng.permutation(len(group))]]
            starts = np.arange(0, len(shuffled), batch_size)
            maxima.append(np.maximum.reduceat(shuffled, starts, axis=0))
    return np.concatenate(maxima)


def choose_edges(
    values: Sequence[int], max_waste: float = MAX_WASTE, max_edges: int = MAX_EDGES
) -> tuple[int, ...]:
    """The fewest edges (at most `max_edges`) so that padding each value up to the next edge
    costs at most `max_waste` padded steps per real step (or, if no set of `max_edges` does,
    the set of `max_edges` that wastes least). The largest value is always an edge.

    Example:

    >>> choose_edges([12] * 50)
    (12,)
    >>> choose_edges([28, 29, 30, 31, 33, 34, 35] * 10)
    (31, 35)
    """
    values = np.asarray(values, "int64")
    if values.size == 0:
        return ()
    if values.min() < 1:
        raise ValueError(f"lengths must be >= 1, received {int(values.min())}.")
    if max_edges < 1:
        raise ValueError(f"`max_edges` must be >= 1, received {max_edges}.")
    distinct, counts = np.unique(values, return_counts=True)
    real = float(values.sum())
    n = len(distinct)
    # Values before distinct[j], counted: padding distinct[i+1..j] up to distinct[j] costs
    # distinct[j] * (below[j + 1] - below[i + 1]).
    below = np.concatenate([[0], np.cumsum(counts)]).astype("float64")
    # best[k][j]: least padded total of distinct[0..j] with k edges, the last at distinct[j].
    best = np.full((max_edges + 1, n), np.inf)
    parent = np.zeros((max_edges + 1, n), "int64")
    best[1] = distinct * below[1:]
    for k in range(2, max_edges + 1):
        for j in range(1, n):  # the previous edge at distinct[i], i < j
            totals = best[k - 1][:j] + distinct[j] * (below[j + 1] - below[1 : j + 1])
            parent[k][j] = int(np.argmin(totals))
            best[k][j] = totals[parent[k][j]]
    for k in range(1, max_edges + 1):
        if best[k][n - 1] <= max_waste * real or k in (max_edges, n):
            break
    edges, j = [], n - 1
    while k >= 1:
        edges.append(int(distinct[j]))
        j, k = int(parent[k][j]), k - 1
    return tuple(sorted(edges))


def padded_to(length: int, edges: Sequence[int]) -> int:
    """`length` padded up to the next edge (itself beyond the last)."""
    for edge in edges:
        if edge >= length:
            return edge
    return length


def waste(values: Sequence[int], edges: Sequence[int]) -> float:
    """Padded steps per real step when each value is padded up to the next edge."""
    values = np.asarray(values, "int64")
    if values.size == 0:
        return 1.0
    padded = sum(padded_to(int(v), edges) for v in values)
    return padded / float(values.sum())


@dataclass(frozen=True)
class PaddingPlan:
    """How a pipeline batches and pads pairs: similar-length buckets (`buckets`, upper
    bounds of the longer side; empty: batches in data order) and each side padded up to the
    next of its edges (empty: to the batch's longest row)."""

    source_edges: tuple[int, ...] = ()
    target_edges: tuple[int, ...] = ()
    buckets: tuple[int, ...] = ()
    # Expected from a simulation of the batches (a few shuffles): padded steps per real step
    # of the batches' longest rows, per side, and how many (source, target) shapes occur.
    source_waste: float = 1.0
    target_waste: float = 1.0
    shapes: int = 0

    def describe(self) -> str:
        parts = []
        if self.buckets:
            parts.append(f"length buckets up to {list(self.buckets)}")
        if self.source_edges or self.target_edges:
            parts.append(
                f"source padded to {list(self.source_edges)}, target to "
                f"{list(self.target_edges)} tokens: {self.source_waste:.2f} / "
                f"{self.target_waste:.2f} padded steps per real step, {self.shapes} batch "
                "shapes to compile"
            )
        return "; ".join(parts) or "each batch padded to its longest row"


def plan_padding(
    lengths: np.ndarray,
    batch_size: int,
    bucket_by_length: bool,
    compiled: bool,
    seed: int = 0,
) -> PaddingPlan:
    """The padding plan for pairs of `lengths` `int[n, 2]` (source and target steps, the
    target's with its `<s>` / `</s>`): similar-length buckets when asked, and, for a compiled
    step, per-side edges chosen from the batches' longest rows (simulated with `seed`)."""
    buckets = BUCKET_BOUNDARIES if bucket_by_length else ()
    lengths = np.asarray(lengths, "int64").reshape(-1, 2)
    if not compiled or len(lengths) == 0:  # nothing to choose: each batch to its longest row
        return PaddingPlan(buckets=buckets)
    keys = lengths.max(axis=1)
    maxima = batch_maxima(
        lengths, batch_size, seed, keys=keys if buckets else None, buckets=buckets
    )
    source_edges, target_edges = choose_edges(maxima[:, 0]), choose_edges(maxima[:, 1])
    shapes = {(padded_to(s, source_edges), padded_to(t, target_edges)) for s, t in maxima}
    return PaddingPlan(
        source_edges=source_edges,
        target_edges=target_edges,
        buckets=buckets,
        source_waste=round(waste(maxima[:, 0], source_edges), 4),
        target_waste=round(waste(maxima[:, 1], target_edges), 4),
        shapes=len(shapes),
    )
