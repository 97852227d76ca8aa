#!/usr/bin/env bash
# The test job: set up with the test extras, lint, build the docs site (warnings are errors),
# run the tests (the docs' Python examples among them) and the docstring examples on the
# TensorFlow backend, then the backend-neutral tests (layers, models, decoding) on JAX, and the
# same on PyTorch where torch is installed. Extra arguments go to the main pytest run (e.g.
# `-m slow` for the long training tests only).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" test

ruff check .
ruff format --check .
NO_MKDOCS_2_WARNING=1 mkdocs build --strict  # (--quiet would hide the warnings strict counts)
# Two test processes (pytest-xdist): a test spends most of its time in one thread (tracing,
# Python, small ops), so two keep CI's 2 cores busy (the TensorFlow-backend tests took 703 s
# instead of about 1,000 there); more would multiply memory. ZOO_TEST_WORKERS=0: one process.
workers=${ZOO_TEST_WORKERS:-2}
KERAS_BACKEND=tensorflow python -m pytest -n "$workers" --durations=15 "$@"
KERAS_BACKEND=tensorflow python -m pytest --doctest-modules zoo -q
# XLA compiles without LLVM's optimizations here: these tests check answers, not speed, and
# most of their time was compiling small graphs (225 s -> 146 s on a 2-core machine).
XLA_FLAGS="${XLA_FLAGS:---xla_backend_optimization_level=0}" KERAS_BACKEND=jax \
  python -m pytest -n "$workers" -q \
  tests/layers tests/models tests/test_decoding.py tests/test_search_options.py
if python -c "import torch" 2>/dev/null; then
  KERAS_BACKEND=torch python -m pytest -n "$workers" -q \
    tests/layers tests/models tests/test_decoding.py tests/test_search_options.py
else
  echo "torch is not installed: PyTorch-backend tests skipped (pip install torch)."
fi
