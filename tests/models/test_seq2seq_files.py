"""`.keras` files written before `Seq2Seq` and the speech speller were rebuilt on
`AttentionCell` load and give the same logits: a user's trained runs survive the change."""

from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import to_numpy
from test_seq2seq import SOURCE, TARGET_IN, VARIANTS

from zoo.models import Seq2Seq
from zoo.models.speech import ListenAttendSpell

# Written before the change (translation at df4fc7a, speech at e53ba31): random weights, the
# inputs and their logits.
SAVED = Path(__file__).parent / "saved"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_model_saved_before_the_attention_cell_loads_with_its_logits(name):
    model = keras.saving.load_model(f"{SAVED}/{name}.keras")
    assert isinstance(model, Seq2Seq)
    logits = model({"source": SOURCE, "target_in": TARGET_IN})
    expected = np.load(f"{SAVED}/logits.npz")[name]
    np.testing.assert_allclose(to_numpy(logits), expected, rtol=1e-5, atol=1e-5)


def test_a_speech_model_saved_before_the_attention_cell_loads_with_its_logits():
    # Listen, Attend and Spell's speller is an AttentionCell now too (location-sensitive).
    model = keras.saving.load_model(SAVED / "las.keras")
    assert isinstance(model, ListenAttendSpell)
    saved = dict(np.load(SAVED / "las_inputs.npz"))
    expected = saved.pop("logits")
    np.testing.assert_allclose(to_numpy(model(saved)), expected, rtol=1e-5, atol=1e-5)
