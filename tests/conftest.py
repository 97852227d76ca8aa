import os
import sys
from pathlib import Path

# TensorFlow's C++ start-up chatter buries the test output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Lets test modules share `helpers.py` without making tests/ a package.
sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402
from made_once import made_once  # noqa: E402

from zoo.tasks import TASK_NAMES, task_examples  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Runs the longest slow tests first (`@pytest.mark.slow(seconds=N)`, what each took on a
    2-core machine): pytest-xdist hands tests out in this order, so a 6-minute recipe starting
    last no longer leaves one process working alone at the end. Other tests keep their order."""
    items.sort(key=lambda item: -expected_seconds(item))  # a stable sort


def expected_seconds(item) -> float:
    marker = item.get_closest_marker("slow")
    return marker.kwargs.get("seconds", 0) if marker else 0


@pytest.fixture(scope="session")
def task_data(tmp_path_factory):
    """A small data file (or folder) for each task, in the format a user gives `--data`:
    each task's `examples.write_example_data`."""

    def write(folder):
        written = {}
        for task in TASK_NAMES:
            (folder / task).mkdir()
            written[task] = str(task_examples(task).write_example_data(folder / task))
        return written

    return {
        task: Path(path) for task, path in made_once(tmp_path_factory, "task-data", write).items()
    }


@pytest.fixture(scope="session")
def dates_tsv(task_data):
    """400 `source<TAB>target` pairs of dates, for quick training and tuning runs."""
    return task_data["translation"]


@pytest.fixture(scope="session")
def reviews_csv(task_data):
    """300 rows of a `text,label` CSV of templated reviews whose label a model can learn."""
    return task_data["classification"]


@pytest.fixture(scope="session")
def load_csv(task_data):
    """60 days of an hourly load: a daily cycle, lower on weekends, rising with temperature."""
    return task_data["forecasting"]


@pytest.fixture(scope="session")
def speech_dir(task_data):
    """A folder of 24 spoken answers (espeak-ng, two voices; a quarter recorded at 8 kHz, which
    the reader resamples) with its `transcripts.tsv`."""
    return task_data["speech"]
