"""Forecasting's training settings: plain Python, so that `zoo describe` and the checks of
`--set` values need no backend.
"""

from __future__ import annotations

from zoo.tasks.settings import TaskSettings

SETTINGS = TaskSettings(
    defaults={
        # 0: from the data (`zoo.data.seasonality`): the longest seasonal period found (at
        # least two horizons), so that every seasonal naive forecast is read from the history.
        "lookback": 0,  # rows of history the model reads
        # 0: from the step: a day ahead for sub-daily rows, a week for daily rows, else 8.
        "horizon": 0,  # rows forecast at once
        "stride": 1,  # rows between training origins
        "target": "",  # a CSV column; default: the file's only value column
        "timestamp": "",  # a CSV column; default: one named timestamp/time/date, else the first
        # A CSV column naming each row's series: many series in one long file, one model for
        # all (`zoo.data.panels`); "" for a file of one series.
        "series_id": "",
        "plot_examples": 3,  # test windows drawn in the run's forecast plots
        # The gradient-boosted baseline (LightGBM, same inputs) scored beside the model.
        "gradient_boosted_baseline": True,
    },
    may_be_zero=frozenset({"lookback", "horizon"}),
    sized_by_data={
        "num_features": "it is the number of series columns read from the data.",
        "num_known": "it is the number of covariate columns plus the calendar features and "
        "the seasonal naive forecast.",
    },
    # elecdemand's recipe: two days of history, day-ahead (a week of history made both models
    # worse there; see zoo/models/entries/forecaster.py).
    by_data={"elecdemand": {"lookback": 96, "horizon": 48}},
)
