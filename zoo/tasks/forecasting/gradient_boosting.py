"""The gradient-boosted baseline a forecaster would try first: LightGBM, direct multi-horizon,
on what the LSTMs know at each origin.

One model per quantile, shared by every lead time (the lead is a feature): each row is one
(origin, lead) pair with the lead, the calendar of the forecast time, the covariates there
(known over the horizon, as the LSTMs take them), the last value and the mean of the
history, and the seasonal naive forecasts of the periods found. It forecasts the correction
of the best seasonal naive forecast, as the LSTMs do, and its outermost quantiles are widened
on the validation part by the same conformal step (`calibration.conformal_widening`).

Plain numpy and LightGBM (no TensorFlow).
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.data.seasonality import DAY, seasonal_naive
from zoo.data.timeseries import Series
from zoo.tasks.forecasting.calibration import conformal_widening

# Training rows ((origin, lead) pairs) kept at most, evenly spread over the training origins:
# elecdemand's 14,000 day-ahead origins would give 670,000 rows of near copies.
MAX_ROWS = 150_000
TREES = 400  # at most; early stopping on the validation part's pinball loss picks fewer


class BoostedBaseline:
    """LightGBM quantile models over (origin, lead) rows.

    Args:
        levels: The quantile levels (0.5 among them), those of the LSTM it is compared with.
        lookback: History rows known at an origin (the LSTM's).
        horizon: Rows forecast from each origin.
        periods: Seasonal periods in rows (each at most `lookback`).
        naive_period: The period whose naive forecast is corrected (1: the last value).
        yearly: Whether the time of year is a feature (only where a yearly period was found:
            in a series of a few months it would only stand for "how late", a trend that
            the trees cannot carry past the training part).
        seed: LightGBM's seed.
        scales: `[rows]` of the series it is fitted on: each row's series' scale, for a panel
            (levels, targets and the interval widening are then in it, so that one model fits
            series of any size); None for one series (raw units).
    """

    def __init__(
        self,
        levels: Sequence[float],
        lookback: int,
        horizon: int,
        periods: Sequence[int],
        naive_period: int,
        yearly: bool = False,
        seed: int = 0,
        scales: np.ndarray | None = None,
    ):
        self.scales = scales
        self.levels = [float(q) for q in levels]
        self.lookback = lookback
        self.horizon = horizon
        self.periods = sorted({1, *periods})
        self.naive_period = naive_period
        self.yearly = yearly
        self.seed = seed
        self.models: list = []
        self.widening = 0.0

    def features(self, series: Series, origins: np.ndarray) -> np.ndarray:
        """`[origins * horizon, features]`, rows ordered by origin, then lead."""
        origins = np.asarray(origins)
        target = series.values[:, 0]
        lead = np.broadcast_to(np.arange(self.horizon), (len(origins), self.horizon))
        rows = origins[:, None] + lead
        times = series.times[rows]
        history = target[origins[:, None] + np.arange(-self.lookback, 0)]
        scale = self._scale(origins)
        columns = [
            lead,
            (times % DAY) / DAY,  # time of day
            ((times // DAY) + 3) % 7,  # day of week (Monday 0)
            *([((times // DAY) % 365.25) / 365.25] if self.yearly else []),  # time of year
            np.repeat(history[:, -1:] / scale, self.horizon, axis=1),
            np.repeat(history.mean(axis=1, keepdims=True) / scale, self.horizon, axis=1),
            *(seasonal_naive(target, origins, self.horizon, m) / scale for m in self.periods),
            *(series.values[rows, k] for k in range(1, series.values.shape[1])),
        ]
        return np.stack([np.asarray(c, dtype="float64") for c in columns], -1).reshape(
            len(origins) * self.horizon, len(columns)
        )

    def _scale(self, origins: np.ndarray) -> np.ndarray | float:
        return 1.0 if self.scales is None else self.scales[np.asarray(origins)][:, None]

    def _naive(self, series: Series, origins: np.ndarray) -> np.ndarray:
        return seasonal_naive(series.values[:, 0], origins, self.horizon, self.naive_period)

    def fit(
        self, series: Series, train: Sequence[int], validation: Sequence[int]
    ) -> BoostedBaseline:
        """Fits one model per level on training origins, stops each on the validation part,
        then widens the interval there."""
        import lightgbm

        train = np.asarray(train)
        train = train[:: max(1, math.ceil(len(train) * self.horizon / MAX_ROWS))]
        validation = np.asarray(validation)
        x, y = self._rows(series, train)
        x_val, y_val = self._rows(series, validation)
        data = lightgbm.Dataset(x, y, free_raw_data=False)
        checks = [lightgbm.Dataset(x_val, y_val, reference=data)] if len(validation) else []
        stop = [lightgbm.early_stopping(30, verbose=False)] if checks else []
        self.models = []
        for q in self.levels:
            params = {
                "objective": "quantile",
                "alpha": q,
                "metric": "quantile",
                "learning_rate": 0.05,
                "num_leaves": 31,
                "min_data_in_leaf": 50,
                "bagging_fraction": 0.8,
                "bagging_freq": 1,
                "feature_fraction": 0.9,
                "seed": self.seed,
                "deterministic": True,
                "verbose": -1,
            }
            booster = lightgbm.train(params, data, TREES, valid_sets=checks, callbacks=stop)
            self.models.append(booster)
        if len(validation) and len(self.levels) >= 3:
            quantiles = self.predict(series, validation)
            actual = series.values[validation[:, None] + np.arange(self.horizon), 0]
            coverage = self.levels[-1] - self.levels[0]
            scale = self._scale(validation)
            self.widening = conformal_widening(
                quantiles / np.expand_dims(scale, -1), actual / scale, coverage
            ).tolist()
        return self

    def _rows(self, series: Series, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        actual = series.values[origins[:, None] + np.arange(self.horizon), 0]
        residual = (actual - self._naive(series, origins)) / self._scale(origins)
        return self.features(series, origins), residual.reshape(-1)

    def predict(self, series: Series, origins: Sequence[int]) -> np.ndarray:
        """Quantile forecasts `[origins, horizon, levels]`, ordered, widened by the calibrated
        amount."""
        origins = np.asarray(origins)
        x = self.features(series, origins)
        raw = np.stack(
            [m.predict(x, num_iteration=m.best_iteration or None) for m in self.models], -1
        )
        raw = np.sort(raw.reshape(len(origins), self.horizon, len(self.levels)), axis=-1)
        scale = np.expand_dims(self._scale(origins), -1)
        quantiles = raw * scale + self._naive(series, origins)[..., None]
        # Away from the median, never across it (as `ForecastPipeline.widen`).
        side = np.sign(np.asarray(self.levels) - 0.5)
        median = quantiles[..., self.levels.index(0.5)][..., None]
        widening = np.asarray(self.widening, "float64").reshape(-1, 1)  # per lead (or one)
        moved = quantiles + side * widening * scale
        return np.where(side < 0, np.minimum(moved, median), np.maximum(moved, median))

    # -- kept with the run, for `zoo evaluate --data` --------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Writes the boosters (LightGBM's text format, cut at their best iteration) and the
        settings to `directory`, whole or not at all."""
        directory = Path(directory)
        staging = directory.with_name(f".{directory.name}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for i, booster in enumerate(self.models):
            booster.save_model(staging / f"quantile_{i}.txt",
                               num_iteration=booster.best_iteration or None)  # fmt: skip
        settings = {key: getattr(self, key) for key in SAVED}
        (staging / "baseline.json").write_text(json.dumps(settings, indent=2))
        shutil.rmtree(directory, ignore_errors=True)
        staging.rename(directory)
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> BoostedBaseline:
        import lightgbm

        directory = Path(directory)
        settings = json.loads((directory / "baseline.json").read_text())
        baseline = cls(**{key: settings[key] for key in SAVED if key != "widening"})
        baseline.widening = settings["widening"]
        baseline.models = [
            lightgbm.Booster(model_file=str(directory / f"quantile_{i}.txt"))
            for i in range(len(baseline.levels))
        ]
        return baseline


SAVED = ("levels", "lookback", "horizon", "periods", "naive_period", "yearly", "seed", "widening")
