"""`.keras` files written before `Seq2Seq` was rebuilt on `AttentionCell` load and give the same
logits: a user's trained runs survive the change."""

from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import to_numpy
from test_seq2seq import SOURCE, TARGET_IN, VARIANTS

from zoo.models import Seq2Seq

# Written at df4fc7a: one model per variant, random weights, and its logits.
SAVED = Path(__file__).parent / "saved"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_model_saved_before_the_attention_cell_loads_with_its_logits(name):
    model = keras.saving.load_model(f"{SAVED}/{name}.keras")
    assert isinstance(model, Seq2Seq)
    logits = model({"source": SOURCE, "target_in": TARGET_IN})
    expected = np.load(f"{SAVED}/logits.npz")[name]
    np.testing.assert_allclose(to_numpy(logits), expected, rtol=1e-5, atol=1e-5)
