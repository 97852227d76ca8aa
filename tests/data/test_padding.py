"""Padding edges from the data: the dynamic programme against brute force, the waste bound,
bucketed batch maxima, and a pipeline whose batches keep to the plan."""

import itertools

import numpy as np
import pytest

from zoo.data.padding import (
    BUCKET_BOUNDARIES,
    batch_maxima,
    choose_edges,
    padded_to,
    plan_padding,
    waste,
)


def brute_force(values, k):
    """The least padded total over every set of k edges taken from the values (the largest
    always one of them)."""
    distinct = sorted(set(values))
    best = None
    for rest in itertools.combinations(distinct[:-1], k - 1):
        edges = (*rest, distinct[-1])
        total = sum(padded_to(v, edges) for v in values)
        if best is None or total < best[0]:
            best = (total, edges)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_the_edges_are_the_fewest_that_meet_the_bound_and_the_best_of_their_number(seed):
    values = np.random.default_rng(seed).integers(3, 30, size=40).tolist()
    edges = choose_edges(values, max_waste=1.05, max_edges=20)
    k = len(edges)
    assert waste(values, edges) <= 1.05
    total, best = brute_force(values, k)
    assert sum(padded_to(v, edges) for v in values) == total  # optimal for k edges
    if k > 1:  # and k - 1 edges cannot meet the bound
        fewer, _ = brute_force(values, k - 1)
        assert fewer > 1.05 * sum(values)


def test_known_answers():
    assert choose_edges([12] * 50) == (12,)  # every dates target: one shape, no waste
    assert choose_edges([28, 29, 30, 31, 33, 34, 35] * 10) == (31, 35)
    assert choose_edges(list(range(1, 101)), max_edges=1) == (100,)
    assert choose_edges([]) == ()
    assert padded_to(7, (4, 8)) == 8 and padded_to(9, (4, 8)) == 9  # beyond the last: exact
    with pytest.raises(ValueError, match="lengths must be >= 1"):
        choose_edges([0, 3])


def test_max_edges_is_kept_when_the_bound_cannot_be():
    values = list(range(1, 200))
    edges = choose_edges(values, max_waste=1.0, max_edges=3)
    assert len(edges) == 3 and edges[-1] == 199
    assert sum(padded_to(v, edges) for v in values) == brute_force(values, 3)[0]


def test_batch_maxima_follow_the_buckets():
    lengths = np.array([5, 6, 7, 20, 21, 22, 40])
    # Bucketed by these lengths with bounds (8, 24): three buckets of one batch each.
    maxima = batch_maxima(lengths, 64, epochs=1, keys=lengths, buckets=(8, 24))
    assert sorted(maxima.tolist()) == [7, 22, 40]
    # Unbucketed batches of 2 over shuffled data: every row falls in one batch per epoch.
    maxima = batch_maxima(lengths, 2, epochs=2)
    assert len(maxima) == 2 * 4 and maxima.max() == 40


def test_a_plan_for_dates_like_lengths():
    rng = np.random.default_rng(0)
    lengths = np.stack([rng.integers(28, 36, size=2000), np.full(2000, 12)], axis=1)
    plan = plan_padding(lengths, 64, bucket_by_length=False, compiled=True)
    assert plan.target_edges == (12,) and plan.target_waste == 1.0  # was 16: 1.33
    assert plan.source_waste <= 1.10 and plan.shapes <= len(plan.source_edges)
    assert "padded steps per real step" in plan.describe()
    # Uncompiled: nothing to pad beyond each batch's longest row.
    assert plan_padding(lengths, 64, bucket_by_length=False, compiled=False).source_edges == ()
    bucketed = plan_padding(lengths, 64, bucket_by_length=True, compiled=False)
    assert bucketed.buckets == BUCKET_BOUNDARIES and not bucketed.source_edges
