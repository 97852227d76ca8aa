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


@pytest.fixture(scope="session")
def reviews_csv(tmp_path_factory):
    """A small `text,label` CSV of templated reviews whose label a model can learn."""
    import csv
    import random

    rng = random.Random(0)
    good = ["wonderful", "moving", "brilliant", "charming", "gripping", "funny"]
    bad = ["dull", "tedious", "clumsy", "boring", "lifeless", "messy"]
    subjects = ["the film", "this movie", "the plot", "the cast", "the script", "the ending"]
    path = tmp_path_factory.mktemp("data") / "reviews.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(300):
            label = "fresh" if i % 2 else "rotten"
            word = rng.choice(good if label == "fresh" else bad)
            writer.writerow([f"{rng.choice(subjects)} is {word} , scene {i}", label])
    return path


@pytest.fixture(scope="session")
def load_csv(tmp_path_factory):
    """60 days of an hourly load: a daily cycle, lower on weekends, rising with temperature."""
    import csv
    import datetime

    import numpy as np

    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "load.csv"
    start = datetime.datetime(2024, 1, 1)
    temperature = 15 + np.cumsum(rng.normal(0, 0.3, 24 * 60))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "load", "workday", "temperature"])
        for i, temp in enumerate(temperature):
            moment = start + datetime.timedelta(hours=i)
            workday = int(moment.weekday() < 5)
            cycle = np.sin(2 * np.pi * (moment.hour - 6) / 24)
            load = 10 + 3 * cycle + 2 * workday + 0.2 * temp + rng.normal(0, 0.2)
            writer.writerow([moment.isoformat(sep=" "), f"{load:.4f}", workday, f"{temp:.3f}"])
    return path


@pytest.fixture(scope="session")
def task_data(dates_tsv, reviews_csv, load_csv, speech_dir):
    """A small data file (or folder) for each task."""
    return {
        "translation": dates_tsv,
        "classification": reviews_csv,
        "forecasting": load_csv,
        "speech": speech_dir,
    }


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory):
    """A folder of 24 spoken answers (espeak-ng, two voices; a quarter recorded at 8 kHz, which
    the reader resamples) with its `transcripts.tsv`."""
    import numpy as np

    from zoo.data.audio import resample
    from zoo.data.espeak import Synthesizer
    from zoo.data.transcripts import random_transcript
    from zoo.tasks.speech.predictor import wav_bytes

    rng = np.random.default_rng(7)
    synth = Synthesizer.get()
    folder = tmp_path_factory.mktemp("speech")
    lines = []
    for i in range(24):
        text = random_transcript(rng)
        audio = synth.speak(text, ("en-us+m3", "en+f2")[i % 2], 170, 50)
        rate = 8000 if i % 4 == 3 else 16000
        (folder / f"u{i:02d}.wav").write_bytes(wav_bytes(resample(audio, 16000, rate), rate))
        lines.append(f"u{i:02d}.wav\t{text}\n")
    (folder / "transcripts.tsv").write_text("".join(lines), encoding="utf-8")
    return folder
