"""The attention-free twin: Sutskever et al. (2014) / Cho et al. (2014) encoder-decoder.

The source is read by an LSTM whose final (h, c) states start the decoder; nothing else of
the source reaches the decoder. Same data, sizes, budget and decoding as the attention
recipes, so the difference in their metrics is what attention buys.

    python recipes/lstm_nmt.py
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g.
# {"bidirectional": True}, {"units": 256}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_nmt", __doc__, CHANGES)
