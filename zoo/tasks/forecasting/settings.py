"""Forecasting's training settings: plain Python, so that `zoo describe` and the checks of
`--set` values need no backend.
"""

from __future__ import annotations

from zoo.tasks.settings import TaskSettings

SETTINGS = TaskSettings(
    defaults={
        "lookback": 96,  # rows of history the model reads
        "horizon": 48,  # rows forecast at once
        "stride": 1,  # rows between training origins
        "target": "",  # a CSV column; default: the file's only value column
        "timestamp": "",  # a CSV column; default: one named timestamp/time/date, else the first
        "plot_examples": 3,  # test windows drawn in the run's forecast plots
    },
    sized_by_data={
        "num_features": "it is the number of series columns read from the data.",
        "num_known": "it is the number of covariate columns plus the calendar features.",
    },
)
