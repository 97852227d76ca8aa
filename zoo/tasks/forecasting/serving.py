"""The serving signatures of a forecasting export: raw history and known future covariates in,
forecasts and quantiles in raw units out.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from zoo.tasks.forecasting.predictor import ForecastPredictor


class ForecastServing:
    """The serving functions of a `ForecastPredictor` (raw units in and out).

    serving_default: {"history": float32[batch, lookback, features],
                      "future": float32[batch, steps, covariates],
                      "forecast_start": int64[batch] (seconds since 1970 of the first step)}
                     -> {"forecast": float32[batch, steps], "quantiles": [batch, steps, Q]}
    attention:       the same inputs -> also "input_attention" [batch, lookback, covariates + 4]
                     and "temporal_attention" [batch, steps, lookback]
    """

    def __init__(self, predictor: ForecastPredictor):
        self.predictor = predictor
        pipeline = predictor.pipeline
        self.signature = [
            tf.TensorSpec(
                [None, pipeline.lookback, len(pipeline.columns)], tf.float32, name="history"
            ),
            tf.TensorSpec([None, None, len(pipeline.covariates)], tf.float32, name="future"),
            tf.TensorSpec([None], tf.int64, name="forecast_start"),
        ]

    def archive(self) -> keras.export.ExportArchive:
        archive = keras.export.ExportArchive()
        archive.track(self.predictor.model)
        archive.add_endpoint("serving_default", self.serve, input_signature=self.signature)
        archive.add_endpoint("attention", self.predictor.run_raw, input_signature=self.signature)
        return archive

    def serve(self, history, future, forecast_start):
        out = self.predictor.run_raw(history, future, forecast_start)
        return {"forecast": out["forecast"], "quantiles": out["quantiles"]}
