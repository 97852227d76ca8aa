import os
import sys

# TensorFlow's C++ start-up chatter buries the test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Lets test modules share `helpers.py` without making tests/ a package.
sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def dates_tsv(tmp_path_factory):
    """A small `source<TAB>target` file of dates, for quick training and tuning runs."""
    from zoo.data.dates import generate_dates

    path = tmp_path_factory.mktemp("data") / "dates.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in generate_dates(400, seed=5)), "utf-8")
    return path
