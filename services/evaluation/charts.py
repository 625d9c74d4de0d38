"""Charts of an evaluation (matplotlib's object API drawn on an Agg canvas: no display,
and no pyplot global state, so concurrent RPC threads can render side by side).

Every chart function takes plain arrays and a PlotSize and returns the matplotlib
Figure, width_px × height_px pixels at size.dpi, for `to_png` to encode (and tests to
inspect). Nothing to draw still gives a chart saying so.

Model i of a chart is drawn in colour "C{i}" of matplotlib's cycle in every chart, so
a model keeps its colour from one plot of an evaluation to the next when the models
are given in the same order.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.dates as mdates
import matplotlib.image as mpimg
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from numpy.typing import ArrayLike

CONTENT_TYPE = "image/png"
# Part of every cached plot's key: bump it when charts change how they look, so plots
# cached by an earlier version are drawn again.
VERSION = 2
HISTOGRAM_BINS = 50
# Time series stack in one column up to this many panels, then wrap into more columns.
ROWS_PER_COLUMN = 4
# error_per_step draws on a log scale when a baseline's worst value is more than this
# many times the models' worst value: on a linear axis the models would share the
# bottom third of the chart.
SQUASHED = 3.0
# loss_curves draws on a log scale unless every loss lies within this factor of the
# smallest, where a log axis shows nothing a linear one does not.
LOSS_LINEAR_WITHIN = 2.0
BASELINE_STYLES = (("--", "s"), ("-.", "^"), (":", "D"), ((0, (5, 1, 1, 1, 1, 1)), "v"))
BASELINE_GREYS = ("0.15", "0.4", "0.55", "0.3")


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


def to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes of exactly its size in pixels."""
    buffer = io.BytesIO()
    # No bbox_inches="tight": the image must be exactly the size asked for.
    figure.savefig(buffer, format="png", dpi=figure.dpi)
    return buffer.getvalue()


def prediction_vs_actual(
    times: np.ndarray,
    actual: np.ndarray,
    forecasts: Mapping[str, np.ndarray],
    *,
    title: str,
    ylabel: str,
    size: PlotSize,
    bands: Mapping[str, Sequence[Band]] | None = None,
) -> Figure:
    """One panel per forecast (titled with its label; shared axes, stacked, wrapping
    into more columns past ROWS_PER_COLUMN) of the actual values and the forecast
    against time (datetime64 values, one per sample, UTC). A forecast with bands gets
    one shaded interval per level in its colour, the widest (highest level) palest."""
    if len(times) == 0 or not forecasts:
        return _empty(size, title, "no samples in this time range" if forecasts else "no models")
    figure = _new_figure(size)
    columns = math.ceil(len(forecasts) / ROWS_PER_COLUMN)
    panels = _panels(figure, len(forecasts), columns)
    bands = bands or {}
    for index, (panel, (label, values)) in enumerate(zip(panels, forecasts.items())):
        colour = f"C{index % 10}"
        # The forecast over a wider actual line: where they agree, the actual edges it.
        entries: list[Artist] = [
            panel.plot(times, actual, color="0.1", linewidth=1.8, label="actual", zorder=2)[0],
            panel.plot(times, values, color=colour, linewidth=1.0, label="forecast", zorder=3)[0],
        ]
        levels = sorted(bands.get(label, ()), key=lambda band: band.level, reverse=True)
        for depth, band in enumerate(levels, start=1):
            shade = panel.fill_between(
                times,
                band.lower,
                band.upper,
                color=colour,
                alpha=0.12 + 0.13 * depth / len(levels),
                linewidth=0,
                label=f"{band.level:.0%} interval",
                zorder=1,
            )
            entries.insert(2, shade)  # the narrowest interval first
        panel.set_title(label, loc="left", fontsize="medium", color=colour, fontweight="bold")
        # The legend sits in the title row, right-aligned: it never covers the data.
        panel.legend(
            handles=entries,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=len(entries),
            fontsize="small" if columns == 1 else "x-small",
            frameon=False,
            borderaxespad=0.1,
            handlelength=1.5,
            columnspacing=1.0,
        )
        panel.grid(alpha=0.3)
        panel.margins(x=0.01)
    locator = mdates.AutoDateLocator(maxticks=8 if columns == 1 else 5)
    panels[0].xaxis.set_major_locator(locator)
    panels[0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    figure.suptitle(title)
    figure.supylabel(ylabel)
    figure.supxlabel("time (UTC)", fontsize="medium")
    return figure


def residual_histogram(residuals: Mapping[str, np.ndarray], *, title: str, xlabel: str, size: PlotSize) -> Figure:
    """Small multiples: one histogram of residuals (actual − forecast) per model, on
    shared bins and shared axes, each titled with the residuals' mean, standard
    deviation and count; non-finite residuals are left out."""
    finite = {label: values[np.isfinite(values)] for label, values in residuals.items()}
    everything = np.concatenate([values for values in finite.values()] or [np.empty(0)])
    if len(everything) == 0:
        return _empty(size, title, "no residuals")
    figure = _new_figure(size)
    columns = len(finite) if len(finite) <= 3 else math.ceil(math.sqrt(len(finite)))
    panels = _panels(figure, len(finite), columns)
    low, high = float(everything.min()), float(everything.max())
    bins = np.linspace(low, high, HISTOGRAM_BINS + 1).tolist() if high > low else HISTOGRAM_BINS
    for index, (panel, (label, values)) in enumerate(zip(panels, finite.items())):
        colour = f"C{index % 10}"
        panel.hist(values, bins=bins, color=colour, alpha=0.75)
        panel.axvline(0.0, color="black", linewidth=0.8)
        summary = _summary(values)
        panel.set_title(f"{label}: {summary}", loc="left", fontsize="small", color=colour)
        panel.grid(alpha=0.3)
    figure.suptitle(title)
    figure.supxlabel(xlabel, fontsize="medium")
    figure.supylabel("count")
    return figure


def error_per_step(
    models: Mapping[str, Sequence[float]],
    baselines: Mapping[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    size: PlotSize,
) -> Figure:
    """One line per model (solid, in its colour) and per baseline (grey, dashed): the
    metric at forecast steps 1..n (NaN: undefined, left as a gap). The axis starts at
    (just below) 0, or is logarithmic, said in the title and axis label, when a baseline lies so far
    above the models (SQUASHED) that they would be squashed together at the bottom."""
    if not models and not baselines:
        return _empty(size, title, "no rows")
    figure = _new_figure(size)
    axes = figure.add_subplot()
    for index, (label, values) in enumerate(models.items()):
        _step_line(axes, values, label=label, color=f"C{index % 10}", linestyle="-", marker="o")
    for index, (label, values) in enumerate(baselines.items()):
        linestyle, marker = BASELINE_STYLES[index % len(BASELINE_STYLES)]
        grey = BASELINE_GREYS[index % len(BASELINE_GREYS)]
        _step_line(axes, values, label=label, color=grey, linestyle=linestyle, marker=marker)
    if _squashes(models, baselines):
        _log_scale(axes, [*models.values(), *baselines.values()])
        title, ylabel = f"{title} (log scale)", f"{ylabel}, log scale"
    else:
        # From 0, less a sliver: a perfect model's line stays clear of the axis.
        axes.set_ylim(bottom=-0.02 * axes.get_ylim()[1])
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.set_xlabel("forecast step")
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    # Below the axes, in rows: baseline labels are long, and the steps want the width.
    figure.legend(loc="outside lower center", ncols=min(3, len(models) + len(baselines)), fontsize="small")
    return figure


def loss_curves(histories: Mapping[str, LossHistory], *, title: str, size: PlotSize) -> Figure:
    """loss and val_loss against the epoch on a log scale (the first epochs' loss is
    often many times the last's), one panel per model on shared axes, the kept epoch
    marked; one legend for all panels."""
    if not histories:
        return _empty(size, title, "no training history")
    figure = _new_figure(size)
    panels = _panels(figure, len(histories), min(3, len(histories)))
    losses = [np.asarray([*h.loss, *(v for v in h.val_loss if v is not None)], np.float64) for h in histories.values()]
    positive = np.concatenate(losses)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    log = len(positive) > 0 and positive.max() > LOSS_LINEAR_WITHIN * positive.min()
    for panel, (label, history) in zip(panels, histories.items()):
        panel.plot(history.epochs, _finite(history.loss), color="C0", marker=".", label="loss")
        val = _finite([np.nan if v is None else v for v in history.val_loss])
        if not np.all(np.isnan(val)):
            panel.plot(history.epochs, val, color="C1", marker=".", linestyle="--", label="val_loss")
        if history.best_epoch:
            panel.axvline(history.best_epoch, color="grey", linestyle=":", linewidth=1.2, label="kept epoch")
        panel.set_title(label, loc="left", fontsize="medium")
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.grid(alpha=0.3)
    if log:
        _log_scale(panels[0], losses)  # the panels share their y axis
    entries: dict[str, Artist] = {}
    for panel in panels:
        for handle, label in zip(*panel.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    figure.legend(
        list(entries.values()), list(entries.keys()), loc="outside upper right", ncols=len(entries), fontsize="small"
    )
    figure.suptitle(title)
    figure.supxlabel("epoch", fontsize="medium")
    figure.supylabel("MSE of scaled values" + (", log scale" if log else ""))
    return figure


def image_grid(images: Sequence[bytes], *, title: str, size: PlotSize) -> Figure:
    """PNG images (e.g. the dataset's violin plots, each titled itself) in a grid of as
    many columns as makes them largest, each scaled to its cell with its aspect kept."""
    if not images:
        return _empty(size, title, "no plots")
    decoded = [mpimg.imread(io.BytesIO(data), format="png") for data in images]
    height, width = decoded[0].shape[:2]
    figure = _new_figure(size)
    figure.suptitle(title)
    # The suptitle (14.4 pt) takes about twice its height at the top; the images share the rest.
    title_share = min(0.5, 2 * 14.4 / 72 * size.dpi / size.height_px)
    area_w, area_h = size.width_px, size.height_px * (1 - title_share)

    def scale(columns: int) -> float:
        rows = math.ceil(len(decoded) / columns)
        return min(area_w / columns / width, area_h / rows / height)

    columns = max(range(1, len(decoded) + 1), key=scale)
    rows = math.ceil(len(decoded) / columns)
    figure.set_layout_engine("none")
    for index, image in enumerate(decoded):
        row, column = divmod(index, columns)
        cell_h = (1 - title_share) / rows
        axes = figure.add_axes((column / columns, 1 - title_share - (row + 1) * cell_h, 1 / columns, cell_h))
        axes.imshow(image, interpolation="antialiased")
        axes.set_axis_off()
    return figure


def _new_figure(size: PlotSize) -> Figure:
    figure = Figure(figsize=(size.width_px / size.dpi, size.height_px / size.dpi), dpi=size.dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _panels(figure: Figure, count: int, columns: int) -> list[Axes]:
    """`count` axes on a grid of `columns`, filled row by row, sharing both axes; tick
    labels only on the outer edges, and on any panel left at the bottom of its column."""
    rows = math.ceil(count / columns)
    grid = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    panels = list(grid.flat)
    for unused in panels[count:]:
        unused.remove()
    for index in range(max(0, count - columns), count):
        panels[index].xaxis.set_tick_params(labelbottom=True)
    return panels[:count]


def _step_line(axes: Axes, values: Sequence[float], **style) -> None:
    steps = np.arange(1, len(values) + 1)
    axes.plot(steps, np.asarray(values, dtype=np.float64), markersize=3.5, linewidth=1.3, **style)


def _summary(values: np.ndarray) -> str:
    """ "mean 1.23, sd 4.56, n=1,000": both to the decimals of sd's 3 significant digits."""
    if not len(values):
        return "n=0"
    mean, sd = float(values.mean()), float(values.std())
    decimals = max(0, 2 - math.floor(math.log10(sd))) if sd > 0 else 3
    return f"mean {round(mean, decimals) + 0.0:.{decimals}f}, sd {sd:.{decimals}f}, n={len(values):,}"


def _log_scale(axes: Axes, series: Sequence[ArrayLike]) -> None:
    """A log y axis labelled in plain numbers (0.2, 0.5, 1, 2, …; not 10^-1), as many
    per decade as the values' span leaves room for."""
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v in series] or [np.empty(0)])
    values = values[np.isfinite(values) & (values > 0)]
    decades = math.log10(values.max() / values.min()) if len(values) else 0.0
    subs = tuple(range(1, 10)) if decades <= 1 else (1, 2, 5) if decades <= 2.5 else (1,)
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(LogLocator(subs=[float(s) for s in subs]))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(NullFormatter())


def _squashes(models: Mapping[str, Sequence[float]], baselines: Mapping[str, Sequence[float]]) -> bool:
    worst_model = _finite_max(models.values())
    worst_baseline = _finite_max(baselines.values())
    return worst_model > 0 and worst_baseline > SQUASHED * worst_model


def _finite_max(series) -> float:
    values = np.concatenate([np.asarray(v, dtype=np.float64) for v in series] or [np.empty(0)])
    values = values[np.isfinite(values)]
    return float(values.max()) if len(values) else 0.0


def _finite(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


def _empty(size: PlotSize, title: str, message: str) -> Figure:
    figure = _new_figure(size)
    axes = figure.add_subplot()
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title)
    axes.set_axis_off()
    return figure
