"""What the benchmarks share: timing, the machine description, the names a run picks."""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable


def threads_flag(default: int) -> int:
    """`--threads` read from the command line before any framework is imported (thread pools
    start at import); the script's own parser reads it again, with its help text."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--threads", type=int, default=default)
    return early.parse_known_args()[0].threads


def pin_to_one_core() -> int | None:
    """Confine this process to one CPU core, before any framework starts its threads.

    Thread settings alone do not make a one-core comparison: XLA's CPU runtime keeps an Eigen
    pool of worker threads whatever `--xla_cpu_multi_thread_eigen` says (measured: 1.8 cores
    busy), and Linux affinity is inherited only by threads created after it is set. Returns
    the core, or None where the platform cannot pin (the run then says so in its JSON).
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return core


def one_xla_core(threads: int) -> int | None:
    """With `threads == 1`: one Eigen thread per XLA computation and the process pinned to
    one core (call before JAX starts); returns the core, or None (not pinned)."""
    if threads != 1:
        return None
    os.environ["XLA_FLAGS"] = (
        f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen=false"
    )
    return pin_to_one_core()


def per_second(run: Callable[[], object], count: float, repeats: int) -> float:
    """`count` items per call of `run`, per second, after one warm-up call (tracing,
    compilation, allocation)."""
    run()
    start = time.perf_counter()
    for _ in range(repeats):
        run()
    return count * repeats / (time.perf_counter() - start)


def machine(*modules) -> dict:
    """What a result was measured on: the platform, the CPU count and each module's version."""
    about = {"platform": platform.platform(), "cpus": os.cpu_count()}
    return about | {module.__name__: module.__version__ for module in modules}


def chosen(parser: argparse.ArgumentParser, given: list[str], known, what: str) -> list[str]:
    """The names given on the command line (all of `known` if none), each checked against
    `known` (argparse cannot: with `nargs="*"` it refuses an empty list against `choices`)."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        parser.error(f"unknown {what}: {', '.join(unknown)}; choose from {', '.join(known)}")
    return list(given) or list(known)
