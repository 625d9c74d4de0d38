"""PNG charts of an evaluation (matplotlib's object API drawn on an Agg canvas: no
display, and no pyplot global state, so concurrent RPC threads can render side by side).

Every function takes plain arrays and a PlotSize and returns PNG bytes of exactly
width_px × height_px pixels. Nothing to draw still gives a chart saying so.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.image as mpimg
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

CONTENT_TYPE = "image/png"
HISTOGRAM_BINS = 50


@dataclass(frozen=True)
class PlotSize:
    width_px: int = 1000
    height_px: int = 600
    dpi: int = 100


@dataclass(frozen=True)
class Band:
    """A prediction interval of nominal coverage `level` (0..1) per sample."""

    level: float
    lower: np.ndarray
    upper: np.ndarray


@dataclass(frozen=True)
class LossHistory:
    epochs: Sequence[int]
    loss: Sequence[float]
    val_loss: Sequence[float | None]
    best_epoch: int = 0


def prediction_vs_actual(
    times: np.ndarray,
    actual: np.ndarray,
    forecasts: Mapping[str, np.ndarray],
    *,
    title: str,
    ylabel: str,
    size: PlotSize,
    bands: Mapping[str, Sequence[Band]] | None = None,
) -> bytes:
    """Actual values and each forecast against time (datetime64 values, one per sample);
    a forecast with bands gets one shaded interval per level in its own colour, the
    widest (highest level) palest."""
    figure, axes = _figure(size)
    if len(times) == 0:
        return _empty(figure, axes, title, "no samples in this time range")
    bands = bands or {}
    axes.plot(times, actual, color="black", linewidth=1.4, label="actual", zorder=3)
    for label, values in forecasts.items():
        (line,) = axes.plot(times, values, linewidth=1.0, alpha=0.85, label=label, zorder=2)
        levels = sorted(bands.get(label, ()), key=lambda band: band.level, reverse=True)
        for depth, band in enumerate(levels, start=1):
            axes.fill_between(
                times,
                band.lower,
                band.upper,
                color=line.get_color(),
                alpha=0.12 + 0.1 * depth / len(levels),
                linewidth=0,
                label=f"{label} {band.level:.0%} interval",
                zorder=1,
            )
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    figure.autofmt_xdate()
    return _png(figure, size)


def residual_histogram(residuals: Mapping[str, np.ndarray], *, title: str, xlabel: str, size: PlotSize) -> bytes:
    """One histogram of residuals (actual − forecast) per model, on shared bins."""
    figure, axes = _figure(size)
    finite = {label: values[np.isfinite(values)] for label, values in residuals.items()}
    everything = np.concatenate([values for values in finite.values()] or [np.empty(0)])
    if len(everything) == 0:
        return _empty(figure, axes, title, "no residuals")
    low, high = float(everything.min()), float(everything.max())
    bins = np.linspace(low, high, HISTOGRAM_BINS + 1) if high > low else HISTOGRAM_BINS
    for label, values in finite.items():
        axes.hist(values, bins=bins, alpha=0.5, label=f"{label} (n={len(values)})")
    axes.axvline(0.0, color="black", linewidth=0.8)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("count")
    axes.legend(loc="best", fontsize="small")
    return _png(figure, size)


def error_per_step(series: Mapping[str, Sequence[float]], *, title: str, ylabel: str, size: PlotSize) -> bytes:
    """One line per model or baseline: the metric at forecast steps 1..n (NaN: undefined,
    left as a gap)."""
    figure, axes = _figure(size)
    if not series:
        return _empty(figure, axes, title, "no rows")
    for label, values in series.items():
        steps = np.arange(1, len(values) + 1)
        axes.plot(
            steps,
            np.asarray(values, dtype=np.float64),
            marker="o",
            markersize=3,
            linestyle="--" if label.startswith("baseline") else "-",
            label=label,
        )
    axes.set_title(title)
    axes.set_xlabel("forecast step")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    return _png(figure, size)


def loss_curves(histories: Mapping[str, LossHistory], *, size: PlotSize) -> bytes:
    """loss and val_loss against the epoch, one panel per model, the kept epoch marked."""
    figure = Figure(figsize=(size.width_px / size.dpi, size.height_px / size.dpi), dpi=size.dpi)
    FigureCanvasAgg(figure)
    if not histories:
        axes = figure.add_subplot()
        return _empty(figure, axes, "loss curves", "no training history")
    columns = min(3, len(histories))
    rows = -(-len(histories) // columns)
    for index, (label, history) in enumerate(histories.items(), start=1):
        axes = figure.add_subplot(rows, columns, index)
        axes.plot(history.epochs, history.loss, label="loss")
        val = [np.nan if v is None else v for v in history.val_loss]
        if not np.all(np.isnan(val)):
            axes.plot(history.epochs, val, label="val_loss")
        if history.best_epoch:
            axes.axvline(history.best_epoch, color="grey", linestyle=":", linewidth=1, label="kept")
        axes.set_title(label, fontsize="small")
        axes.set_xlabel("epoch")
        axes.set_ylabel("MSE (scaled)")
        axes.grid(alpha=0.3)
        axes.legend(fontsize="x-small")
    figure.tight_layout()
    return _png(figure, size)


def image_grid(images: Sequence[tuple[str, bytes]], *, size: PlotSize) -> bytes:
    """PNG images (e.g. the dataset's violin plots) side by side in a grid."""
    figure = Figure(figsize=(size.width_px / size.dpi, size.height_px / size.dpi), dpi=size.dpi)
    FigureCanvasAgg(figure)
    if not images:
        return _empty(figure, figure.add_subplot(), "dataset violins", "no plots")
    columns = int(np.ceil(np.sqrt(len(images))))
    rows = -(-len(images) // columns)
    for index, (label, data) in enumerate(images, start=1):
        axes = figure.add_subplot(rows, columns, index)
        axes.imshow(mpimg.imread(io.BytesIO(data), format="png"))
        axes.set_axis_off()
        axes.set_title(label, fontsize="small")
    figure.tight_layout()
    return _png(figure, size)


def _figure(size: PlotSize):
    figure = Figure(figsize=(size.width_px / size.dpi, size.height_px / size.dpi), dpi=size.dpi)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _empty(figure: Figure, axes, title: str, message: str) -> bytes:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title)
    axes.set_axis_off()
    return _png(
        figure,
        PlotSize(int(figure.get_figwidth() * figure.dpi), int(figure.get_figheight() * figure.dpi), int(figure.dpi)),
    )


def _png(figure: Figure, size: PlotSize) -> bytes:
    buffer = io.BytesIO()
    # No bbox_inches="tight": the image must be exactly the size asked for.
    figure.savefig(buffer, format="png", dpi=size.dpi)
    return buffer.getvalue()
