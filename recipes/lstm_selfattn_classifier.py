"""Lin et al. (2017), "A Structured Self-attentive Sentence Embedding".

A BiLSTM reads the text; r attention hops A = softmax(W_2 tanh(W_1 H^T)) each pool the states
into a vector (M = A H), and the penalty ||A A^T - I||_F^2 keeps the hops on different words.
The flattened M feeds an MLP. The paper used r = 30 hops on long Yelp and age reviews; the
short rt-polarity snippets need far fewer, and a smaller penalty.

    python recipes/lstm_selfattn_classifier.py
    python recipes/lstm_selfattn_classifier.py --data reviews.csv
"""

from zoo.recipe import run_recipe

# The registry entry's defaults are this recipe's setup: `zoo describe` prints them, and so
# does the run as it starts. List here only what a variant changes, e.g.
# {"heads": 8, "penalty": 1.0}.
CHANGES: dict = {}

if __name__ == "__main__":
    run_recipe("lstm_selfattn_classifier", __doc__, CHANGES)
