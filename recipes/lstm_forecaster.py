"""LSTM encoder-decoder forecaster: the no-attention twin of the dual-stage attention RNN.

An LSTM reads two days of half-hourly history (demand, the covariates, calendar features);
a second LSTM, started from the encoder's final state, runs over the next day's known
covariates (working-day flag, temperature, calendar) and a dense head gives the 10/50/90 %
quantiles of every half-hour at once, trained with the pinball loss. The demand history is
normalized per window and the forecast mapped back (reversible instance normalization, Kim et
al. 2022), as in the attention model, so the two differ only by attention.

    python recipes/lstm_forecaster.py
    python recipes/lstm_forecaster.py --data my.csv   # with `zoo train ... --set target=...`
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g. {"units": 128}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_forecaster", __doc__, CHANGES)
