"""Named presets: the training settings a study uses, as data that any command applies.

`zoo train lstm_luong_nmt --preset bible-es-en --data my_corpus/` trains with the Bible
study's settings on your own corpus; `zoo describe lstm_luong_nmt --preset bible-es-en` prints
them resolved; `recipes/bible_es_en.py` reads the same preset. Plain Python, like the registry.
Settings given with `--hparams` or `--set` override the preset's.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from zoo.registry import ModelSpec


@dataclass(frozen=True)
class Preset:
    """Settings for every model of one task, with what differs for some of them.

    Attributes:
        name: What `--preset` takes.
        task: The task whose models it applies to.
        description: One line for `zoo describe`.
        data: The dataset it was made for (the default `--data` with it).
        settings: Model arguments and training settings for every model of the task.
        attention_only: Settings that size the attention, left out for models without it.
        without_attention: Changes for models without attention (the twins).
        per_model: Changes for single models, by registry name.
    """

    name: str
    task: str
    description: str
    data: str
    settings: Mapping[str, Any]
    attention_only: frozenset[str] = frozenset()
    without_attention: Mapping[str, Any] = field(default_factory=dict)
    per_model: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        for name in ("settings", "without_attention", "per_model"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def for_model(self, spec: ModelSpec) -> dict[str, Any]:
        """The preset's settings for the model of `spec`."""
        if spec.task != self.task:
            raise ValueError(
                f"Preset {self.name!r} is for {self.task} models; {spec.name!r} is a "
                f"{spec.task} model. Presets for it: {names(spec.task) or 'none'}."
            )
        settings = dict(self.settings)
        if spec.attention == "none":
            settings = {k: v for k, v in settings.items() if k not in self.attention_only}
            settings.update(self.without_attention)
        settings.update(self.per_model.get(spec.name, {}))
        return settings


BIBLE_ES_EN = Preset(
    name="bible-es-en",
    task="translation",
    description="The Bible study's settings: real sentences, subwords, a 2-core CPU budget.",
    data="bible-es-en",
    settings={
        # SentencePiece unigram vocabularies of 8k pieces a side: no <unk> in the output.
        "token_level": "unigram",
        "max_vocab_size": 8000,
        "embedding_dim": 256,
        "units": 256,
        "attention_units": 256,
        "dropout": 0.2,
        "batch_size": 64,
        "learning_rate": 1e-3,
        # Training on sentences of at most 40 pieces a side; the test keeps every length.
        "max_train_source_length": 40,
        "max_train_target_length": 40,
        "bucket_by_length": True,
        # A fixed budget with cosine decay: validation accuracy still rises at the end of any
        # budget a CPU affords, so early stopping would not fire; the decay settles the last
        # epochs instead.
        "epochs": 22,
        "lr_schedule": "cosine",
        "patience": 22,
        "beam_size": 4,
    },
    attention_only=frozenset({"attention_units"}),
    # Without attention the decoder sees the source only through the encoder's final state,
    # which it overwrites after a few words. The twin is Bahdanau et al.'s own baseline, Cho et
    # al.'s (2014) RNN Encoder-Decoder: that summary fed to every decoder step. Reading the
    # source backwards instead (Sutskever et al. 2014, `reverse_source`) did not help here:
    # validation accuracy 0.315 after 16 epochs against 0.317 in order.
    without_attention={"feed_context": True},
    # From a zero output bias, lstm_bahdanau_nmt learns the target's token frequencies by
    # saturating its tanh layers to one constant vector, and stays there (the loss at 6.10, the
    # unigram level, for 3 epochs; `initialize` in zoo/tasks/translation/task.py). Starting the
    # bias at those frequencies it learns at once (token accuracy 0.20 after 290 steps, against
    # 0.064). Luong and the twin learned from zeros, and their published results were so.
    per_model={"lstm_bahdanau_nmt": {"output_bias": "unigram"}},
)

TELEPHONE = Preset(
    name="telephone",
    task="speech",
    description="For 8 kHz telephone audio: mel bands up to 4 kHz, trained longer.",
    data="spoken-numbers",
    settings={
        # The band an 8 kHz recording holds: telephone and wideband audio give the same
        # features, so 8 kHz input costs next to nothing (lstm_las_asr, seeds 0-2: CER 4.1 %
        # against 3.9 % at 16 kHz; wideband features: 1.8x).
        "max_frequency": 4000,
        # With 18 epochs it stayed behind the wideband front end on 16 kHz audio (5.2 against
        # 3.6 %), its validation loss still falling at the end of the cosine schedule; 24
        # brought it to 3.9 % (docs/guides/speech.md, "A telephone-band front end").
        "epochs": 24,
    },
)

PRESETS = {preset.name: preset for preset in (BIBLE_ES_EN, TELEPHONE)}


def get_preset(name: str) -> Preset:
    """The preset named `name`; an unknown one raises, naming the presets there are."""
    if name not in PRESETS:
        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown preset {name!r}.{hint} Presets: {sorted(PRESETS)}.")
    return PRESETS[name]


def names(task: str | None = None) -> list[str]:
    """The presets' names (of one task's models, if given)."""
    return sorted(n for n, p in PRESETS.items() if task is None or p.task == task)


def for_command(model: str, preset: str | None) -> tuple[dict[str, Any], str | None]:
    """`(settings, dataset)` that `--preset` gives model `model` (nothing without one)."""
    if preset is None:
        return {}, None
    from zoo.catalog import spec

    chosen = get_preset(preset)
    return chosen.for_model(spec(model)), chosen.data
