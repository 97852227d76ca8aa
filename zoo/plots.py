"""Attention heatmaps, forecasts and learning curves as PNG files (matplotlib, no display)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def attention_heatmap(
    weights: np.ndarray,
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    path: str | Path,
    title: str = "",
    xlabel: str = "source",
    ylabel: str = "output",
) -> Path:
    """Saves `weights` (`[len(target_tokens), len(source_tokens)]`) as a labelled heatmap.

    The colour scale runs from 0 to the largest weight, so nearly uniform weights (0.05 each)
    still show which tokens got more, and the colour bar says how much that is.
    """
    weights = np.asarray(weights, dtype="float32")
    if weights.shape != (len(target_tokens), len(source_tokens)):
        raise ValueError(
            f"weights of shape {weights.shape} do not match {len(target_tokens)} target and "
            f"{len(source_tokens)} source tokens."
        )
    path = Path(path)
    width = max(4.0, 0.35 * len(source_tokens) + 2)
    height = max(3.0, 0.35 * len(target_tokens) + 1.5)
    fig, ax = plt.subplots(figsize=(width, height))
    _heatmap(fig, ax, weights, source_tokens, target_tokens, xlabel, ylabel)
    if title:
        ax.set_title(title, fontsize=9)
    _save(fig, path)
    return path


def explanation(
    tokens: Sequence[str],
    attributions: np.ndarray,
    path: str | Path,
    title: str = "",
    weights: np.ndarray | None = None,
) -> Path:
    """A classifier's explanation of one text: the integrated-gradients attribution of each
    token (bars, signed: green pushes towards the predicted label, red away from it) and,
    for attention models, the attention of each head over the same tokens (heatmap)."""
    path = Path(path)
    rows = 1 if weights is None else 2
    width = max(5.0, 0.4 * len(tokens) + 2)
    fig, axes = plt.subplots(rows, 1, figsize=(width, 2.6 * rows), squeeze=False)
    ax = axes[0, 0]
    attributions = np.asarray(attributions, dtype="float32")
    colours = ["#2a9d3f" if a >= 0 else "#d1495b" for a in attributions]
    ax.bar(range(len(tokens)), attributions, color=colours)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xticks(range(len(tokens)), [_visible(t) for t in tokens], rotation=90)
    ax.set_xlim(-0.5, len(tokens) - 0.5)
    ax.set_ylabel("integrated\ngradients")
    if title:
        ax.set_title(title, fontsize=9)
    if weights is not None:
        heads = [f"head {h + 1}" for h in range(len(weights))]
        _heatmap(fig, axes[1, 0], np.asarray(weights), tokens, heads, "token", "attention")
    _save(fig, path)
    return path


def _heatmap(fig, ax, weights, x_tokens, y_tokens, xlabel, ylabel) -> None:
    top = float(weights.max()) if weights.size and weights.max() > 0 else 1.0
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=top, aspect="auto")
    ax.set_xticks(range(len(x_tokens)), [_visible(t) for t in x_tokens], rotation=90)
    ax.set_yticks(range(len(y_tokens)), [_visible(t) for t in y_tokens])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(image, ax=ax, fraction=0.04)


def _save(fig, path: Path) -> None:
    with warnings.catch_warnings():
        # Scripts the default font lacks (CJK, ...) are drawn as boxes; the PNG is still useful.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    plt.close(fig)


def learning_curves(history_csv: str | Path, path: str | Path) -> Path:
    """Plots every `x` / `val_x` pair of a Keras `CSVLogger` file against the epoch."""
    from zoo.runs import read_history

    rows = read_history(Path(history_csv))  # a damaged file is named
    if not rows:
        raise ValueError(f"{history_csv} has no epochs to plot.")
    metrics = [
        k for k in rows[0] if k not in ("epoch", "learning_rate") and not k.startswith("val_")
    ]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3), squeeze=False)
    epochs = [int(r["epoch"]) + 1 for r in rows]
    for ax, metric in zip(axes[0], metrics, strict=True):
        for key in (metric, f"val_{metric}"):
            if key in rows[0]:
                ax.plot(epochs, [float(r[key]) for r in rows], marker="o", label=key)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def forecasts(
    panels: Sequence[dict],
    path: str | Path,
    unit: str = "",
    interval: float | None = None,
    time_unit: str = "hours",
) -> Path:
    """Forecast against actual, one panel per window: each dict holds `title`, `x` (times
    after the origin, in `time_unit`), `actual`, `forecast` and optionally `low` / `high`
    (the interval band)."""
    path = Path(path)
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.4 * len(panels)), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        x = panel["x"]
        if panel.get("low") is not None:
            label = f"{interval:.0%} interval" if interval else "interval"
            ax.fill_between(x, panel["low"], panel["high"], alpha=0.25, label=label)
        ax.plot(x, panel["actual"], color="black", linewidth=1.2, label="actual")
        ax.plot(x, panel["forecast"], color="tab:blue", linewidth=1.2, label="forecast")
        ax.set_title(panel["title"], fontsize=9)
        ax.set_ylabel(unit)
        ax.legend(fontsize=7, loc="upper left")
    axes[-1, 0].set_xlabel(f"{time_unit} after the forecast origin")
    _save(fig, path)
    return path


def forecast_attention(
    input_weights: np.ndarray,
    temporal_weights: np.ndarray,
    features: Sequence[str],
    path: str | Path,
    step_size: float = 1.0,
    title: str = "",
    time_unit: str = "hours",
) -> Path:
    """A DA-RNN forecast's two attentions: the input attention of each driving series over the
    history (`[lookback, features]`) and the temporal attention of each forecast step over the
    history (`[steps, lookback]`), the history's axis in `time_unit` (`step_size` per row).
    Each colour scale runs from 0 to its largest weight."""
    path = Path(path)
    input_weights = np.asarray(input_weights, "float32")
    temporal_weights = np.asarray(temporal_weights, "float32")
    lookback = input_weights.shape[0]
    past = (np.arange(-lookback, 0) * step_size)[[0, -1]]
    fig, axes = plt.subplots(2, 1, figsize=(9, 7))
    panels = (
        (input_weights.T, "input attention", "driving series", list(features)),
        (temporal_weights, "temporal attention", "forecast step", None),
    )
    for ax, (weights, name, ylabel, labels) in zip(axes, panels, strict=True):
        top = float(weights.max()) if weights.size and weights.max() > 0 else 1.0
        extent = (past[0], past[1], weights.shape[0] - 0.5, -0.5)
        image = ax.imshow(weights, cmap="viridis", vmin=0, vmax=top, aspect="auto", extent=extent)
        if labels:
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel(f"history ({time_unit} before the forecast start)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title}: {name}" if title else name, fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.04)
    _save(fig, path)
    return path


def lead_time_errors(
    curves: dict[str, Sequence[float]],
    leads: Sequence[float],
    path: str | Path,
    unit: str = "",
    time_unit: str = "hours",
) -> Path:
    """MAE by lead time (`leads`, in `time_unit`), one line per forecaster (model, twin,
    baselines)."""
    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, values in curves.items():
        ax.plot(leads, values, label=name, linewidth=1.3)
    ax.set_xlabel(f"lead time ({time_unit})")
    ax.set_ylabel(f"MAE {unit}".strip())
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    _save(fig, path)
    return path


def speech_alignment(
    features: np.ndarray,
    weights: np.ndarray,
    rows: Sequence[str],
    path: str | Path,
    title: str = "",
    ylabel: str = "output character",
) -> Path:
    """An utterance's log-mel spectrogram (`[frames, bins]`) above `weights` (`[len(rows),
    encoder frames]`: a speller's alignment or CTC's posteriors), on one time axis."""
    path = Path(path)
    weights = np.asarray(weights, "float32")
    if weights.shape[0] != len(rows):
        raise ValueError(f"weights of shape {weights.shape} do not match {len(rows)} rows.")
    seconds = features.shape[0] / 100.0  # 10 ms frames
    height = max(4.0, 0.22 * len(rows) + 2.5)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, height), sharex=True, height_ratios=[1, max(1.5, len(rows) / 12)]
    )
    top.imshow(features.T, origin="lower", aspect="auto", cmap="magma", extent=(0, seconds, 0, 1))
    top.set_yticks([])
    top.set_ylabel("log-mel")
    if title:
        top.set_title(title, fontsize=9)
    peak = float(weights.max()) if weights.size and weights.max() > 0 else 1.0
    extent = (0, seconds, len(rows) - 0.5, -0.5)
    image = bottom.imshow(weights, aspect="auto", cmap="viridis", vmin=0, vmax=peak, extent=extent)
    bottom.set_yticks(range(len(rows)), [_visible(r) for r in rows], fontsize=7)
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel(ylabel)
    fig.colorbar(image, ax=bottom, fraction=0.03)
    fig.colorbar(top.images[0], ax=top, fraction=0.03)
    _save(fig, path)
    return path


def _visible(token: str) -> str:
    return "␣" if token == " " else token
