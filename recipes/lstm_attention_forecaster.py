"""DA-RNN: Qin et al. (2017), "A Dual-Stage Attention-Based Recurrent Neural Network for Time
Series Prediction", made multi-horizon with quantile outputs.

Stage 1, input attention: at every history step the encoder weighs each driving series
(working day, temperature, calendar; demand's own history enters unweighted) by
alpha_t^k = softmax_k(v^T tanh(W [h; s] + U x^k)), where x^k is that series over the whole
window, and reads the weighted inputs.
Stage 2, temporal attention: at every forecast step the decoder attends over the encoder
states from its previous state (`BahdanauAttention`); the context enters the next step and the
output head, which gives the 10/50/90 % quantiles (pinball loss).
The target's history is normalized per window and the forecast mapped back (reversible
instance normalization, Kim et al. 2022), as in its twin `lstm_forecaster`. Both attentions
are drawn for a few December days (attention/*.png in the run).

    python recipes/lstm_attention_forecaster.py
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g.
# {"attention_units": 64}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_attention_forecaster", __doc__, CHANGES)
