"""Violin plots of a dataset's feature distributions, one PNG per feature, one violin
per split (matplotlib's object API on an Agg canvas: no display, no pyplot state).

Each PNG stands on its own (the web console shows them one by one) and is also shown
shrunk in a grid by the evaluation service's DATASET_VIOLINS plot, so it carries its own
title and its text is set large enough to stay legible at half size.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Values drawn per violin: a kernel density of more points looks the same and costs more.
MAX_POINTS = 20_000
WIDTH_IN, HEIGHT_IN, DPI = 5.0, 3.5, 100
TITLE_PT, TEXT_PT = 15, 12
# Calendar columns ("calendar.day_sin", …) are model inputs the scalers leave alone.
CALENDAR_PREFIX = "calendar."
SPLITS = ("train", "validation", "test")


def violin_plots(windows, split) -> Iterator[tuple[str, str, bytes]]:
    """(plot id "violin-{input|output}-{index}", feature name, PNG bytes) for every input
    and output feature of `windows` (a forecasting.windowing.Windows, scaled) that has
    finite values in some split of `split` (a forecasting.splitting.Split)."""
    for plot_id, name, figure in violin_figures(windows, split):
        yield plot_id, name, _png(figure)


def violin_figures(windows, split) -> Iterator[tuple[str, str, Figure]]:
    """violin_plots' figures, before they are encoded."""
    rng = np.random.default_rng(0)
    columns = [("input", i, name, windows.X) for i, name in enumerate(windows.input_names)]
    columns += [("output", i, name, windows.y) for i, name in enumerate(windows.output_names)]
    for role, index, name, array in columns:
        groups, labels = [], []
        for split_name in SPLITS:
            rows = getattr(split, split_name)
            if len(rows) == 0:
                continue
            values = array[rows, :, index].ravel()
            values = values[np.isfinite(values)]
            if len(values) > MAX_POINTS:
                values = rng.choice(values, MAX_POINTS, replace=False)
            if len(values):
                groups.append(values)
                labels.append(f"{split_name}\nn={len(rows):,}")
        if groups:
            figure = violin_figure(f"{name} ({role})", groups, labels, scaled=not name.startswith(CALENDAR_PREFIX))
            yield f"violin-{role}-{index}", name, figure


def violin_figure(title: str, groups: Sequence[np.ndarray], labels: Sequence[str], *, scaled: bool) -> Figure:
    """One violin (with its median) per group of values, labelled below."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.violinplot(list(groups), showmedians=True)
    axes.set_xticks(range(1, len(labels) + 1), labels)
    axes.tick_params(labelsize=TEXT_PT)
    axes.set_title(title, fontsize=TITLE_PT)
    axes.set_ylabel("scaled value" if scaled else "value", fontsize=TEXT_PT)
    axes.grid(axis="y", alpha=0.3)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
