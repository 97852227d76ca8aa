"""Attention pooling: Zhou et al. (2016) / Yang et al. (2016) word attention over a BiLSTM.

The BiLSTM states h_t are scored against one learned context vector,
a_t = softmax(v^T tanh(W h_t)), and their weighted sum represents the text; the weights say
which words the model looked at (saved as PNG and HTML for a few test reviews). This is
`StructuredSelfAttention(heads=1)` without the penalty.

    python recipes/lstm_attention_classifier.py
    python recipes/lstm_attention_classifier.py --data reviews.csv
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g.
# {"attention_units": 128}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_attention_classifier", __doc__, CHANGES)
