"""The perturbations of training audio beyond the default three: a room, a mu-law line, and the
`augmentations` setting that picks them."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from zoo.settings import resolve_settings  # noqa: E402
from zoo.tasks.speech.augmentation import mu_law, perturb, reverberate  # noqa: E402
from zoo.tasks.speech.pipeline import SpeechPipeline  # noqa: E402
from zoo.tasks.speech.settings import AUGMENTATIONS, DEFAULT_AUGMENTATIONS  # noqa: E402


def test_mu_law_quantizes_as_g711_does():
    # 0.001: compressed ln(1 + 255 * 0.001) / ln(256) = 0.040980, code round(132.725) = 133,
    # back to 133 / 255 * 2 - 1 = 0.043137, expanded (256 ** 0.043137 - 1) / 255 = 0.0010597.
    x = tf.constant([0.001, -0.001, 1.0, -1.0, 2.0], tf.float32)
    y = mu_law(x).numpy()
    np.testing.assert_allclose(y, [0.0010597, -0.0010597, 1.0, -1.0, 1.0], rtol=2e-4)
    ramp = mu_law(tf.linspace(-1.0, 1.0, 20001)).numpy()
    assert len(np.unique(ramp)) == 256
    # relative steps: fine near zero, coarse near full scale (what makes it a codec)
    levels = np.unique(np.abs(ramp))
    assert np.diff(levels)[0] < 1e-3 < 0.01 < np.diff(levels)[-1]


def test_a_room_adds_a_decaying_tail_below_the_direct_sound():
    impulse = np.zeros(16000, np.float32)
    impulse[100] = 1.0
    wet = reverberate(tf.constant(impulse), 0.2, 6.0, tf.constant([1, 2], tf.int64)).numpy()
    assert wet.shape == impulse.shape
    np.testing.assert_allclose(np.sqrt(np.mean(wet**2)), np.sqrt(np.mean(impulse**2)), rtol=1e-4)
    assert np.all(wet[:100] == pytest.approx(0.0, abs=1e-6))  # nothing before the sound
    direct = wet[100] ** 2
    tail = wet[101:] ** 2
    assert tail.sum() / direct == pytest.approx(10 ** (-6.0 / 10), rel=1e-3)
    # 60 dB down after RT60 = 0.2 s (3,200 samples): what is left is about a millionth
    assert tail[3200:].sum() / tail.sum() < 1e-4
    assert tail[:800].sum() > tail[800:1600].sum() > tail[1600:2400].sum()


def test_the_default_perturbations_are_unchanged_and_the_others_are_opt_in():
    x = tf.constant(np.sin(np.arange(8000) * 0.05).astype("float32") * 0.3)
    seeds = [tf.constant([i, 3], tf.int64) for i in range(16)]
    for s in seeds:
        default = perturb(x, s).numpy()
        np.testing.assert_array_equal(default, perturb(x, s, kinds=DEFAULT_AUGMENTATIONS).numpy())
        np.testing.assert_array_equal(perturb(x, s, kinds=()).numpy(), x.numpy())
    # a room or a mu-law line alone keeps the length and changes some of the draws
    for kind in ("reverb", "mulaw"):
        outs = [perturb(x, s, kinds=(kind,)).numpy() for s in seeds]
        changed = [not np.allclose(o, x.numpy(), atol=1e-6) for o in outs]
        assert all(len(o) == len(x) for o in outs) and 0 < sum(changed) < len(seeds), kind
    every = [perturb(x, s, kinds=AUGMENTATIONS).numpy() for s in seeds]
    assert all(np.isfinite(o).all() for o in every)
    with pytest.raises(ValueError, match="Unknown augmentation.*'echo'"):
        perturb(x, seeds[0], kinds=("speed", "echo"))


def test_the_augmentations_setting_takes_a_list_of_known_perturbations():
    _, training = resolve_settings("lstm_ctc_asr", None, {})
    assert training["augmentations"] == list(DEFAULT_AUGMENTATIONS) and training["augment"]
    _, training = resolve_settings("lstm_ctc_asr", None, {"augmentations": ["reverb", "mulaw"]})
    assert training["augmentations"] == ["reverb", "mulaw"]
    with pytest.raises(ValueError, match="`augmentations` must be a list of items from"):
        resolve_settings("lstm_ctc_asr", None, {"augmentations": ["speed", "echo"]})
    with pytest.raises(ValueError, match="`augmentations` must be a list"):
        resolve_settings("lstm_ctc_asr", None, {"augmentations": "speed"})


def test_the_pipeline_applies_only_the_chosen_perturbations():
    from zoo.data.vocabulary import Vocabulary

    rate = 16000
    tone = (np.sin(2 * np.pi * 440 * np.arange(rate) / rate) * 8000).astype(np.int16)
    utterances = [(tone, "a", f"u{i}") for i in range(8)]
    pipeline = SpeechPipeline(Vocabulary.build([["a"]]))

    def waveforms(**kwargs):
        batch = next(iter(pipeline.dataset(utterances, 8, seed=1, augment=True, **kwargs)))[0]
        return batch["audio"].numpy(), batch["audio_length"].numpy()

    clean = tone.astype(np.float32) / 32768.0
    audio, lengths = waveforms(augmentations=[])
    np.testing.assert_array_equal(audio, np.stack([clean] * 8))
    audio, lengths = waveforms(augmentations=["mulaw"])
    assert (lengths == rate).all()  # no speed change
    assert any(not np.allclose(a, clean, atol=1e-6) for a in audio)
    np.testing.assert_allclose(audio, np.stack([clean] * 8), atol=0.02)  # 8-bit steps only
    _, lengths = waveforms()  # the default: speed changes some
    assert (lengths != rate).any()
