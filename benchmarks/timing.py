"""The timing the speed benchmarks share."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_second(run: Callable[[], object], count: float, repeats: int) -> float:
    """`count` items per call of `run`, per second, after one warm-up call (tracing,
    compilation, allocation)."""
    run()
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return count * repeats / (time.perf_counter() - start)
