"""Fine-tuning: a new run that starts from a finished run's weights (`zoo train NAME
--init-from RUN --data NEW`), e.g. a recognizer trained on synthetic speech adapted to a few
real recordings.

The new run keeps what the weights were learned with: the source run's architecture (model
arguments), its pipeline (vocabularies, feature and series scaling: the new data is read
through them, never refitted) and its data-derived settings (a forecaster's lookback and
horizon). Training settings (epochs, learning rate, batch size, seed...) are the source's
unless given again. The weights start as the source's; nothing re-initializes them (no output
bias from the new data's frequencies). `freeze` keeps some of them as they are: with a few
recordings, adapting a recognizer's listener alone leaves its speller's knowledge of the
language intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.catalog import ModelSpec
from zoo.runs import read_run_config

MODEL_FILE = "model.keras"


def source_run(init_from: str | Path, spec: ModelSpec) -> dict[str, Any]:
    """The config of the finished run `init_from`, checked to be one of `spec`'s.

    Raises:
        FileNotFoundError: when it is no run directory, or has no trained model yet.
        ValueError: when it trained another model.
    """
    run = Path(init_from)
    config = read_run_config(run)
    if config["model"] != spec.name:
        raise ValueError(
            f"--init-from {run} is a {config['model']} run; its weights fit {config['model']}, "
            f"not {spec.name}: train `zoo train {config['model']} --init-from {run}`."
        )
    if not (run / MODEL_FILE).is_file():
        raise FileNotFoundError(
            f"--init-from {run} has no trained model ({MODEL_FILE}): let that run finish first "
            "(rerun its `zoo train` command)."
        )
    return config


def fine_tuning_settings(
    source: dict[str, Any], spec: ModelSpec, given: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model arguments and training settings of a run fine-tuned from `source` (a run's
    config), with the settings the user `given` again.

    Raises:
        ValueError: when `given` changes the architecture (a model argument).
    """
    model_args = dict(source["model_args"])
    changed = sorted(
        key for key, value in given.items() if key in spec.defaults and model_args.get(key) != value
    )
    if changed:
        raise ValueError(
            f"Fine-tuning keeps the architecture of the run it starts from; {changed} would "
            "change it (train a new run without --init-from for another architecture)."
        )
    training = dict(source["training"])
    training.update({key: value for key, value in given.items() if key not in spec.defaults})
    return model_args, training


def load_source_model(init_from: str | Path) -> Any:
    """The source run's trained model (uncompiled), the new run's starting point."""
    import keras

    return keras.saving.load_model(Path(init_from) / MODEL_FILE, compile=False)


def freeze(model: Any, prefixes: list[str]) -> list[str]:
    """Makes the model's layers whose names start with one of `prefixes` untrainable (before
    compiling); returns their names.

    Raises:
        ValueError: when a prefix names no layer (the message lists the layers).
    """
    names = [layer.name for layer in model.layers]
    frozen = []
    for prefix in prefixes:
        matched = [layer for layer in model.layers if layer.name.startswith(prefix)]
        if not matched:
            raise ValueError(
                f"freeze: no layer of {model.name} is named {prefix!r}...; its layers: "
                f"{', '.join(names)}."
            )
        for layer in matched:
            layer.trainable = False
            frozen.append(layer.name)
    return sorted(set(frozen))
