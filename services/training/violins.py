"""Violin plots of a dataset's scaled feature distributions, one PNG per feature,
one violin per split (matplotlib, Agg backend: no display)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

# Values drawn per violin: a kernel density of more points looks the same and costs more.
MAX_POINTS = 20_000


def violin_plots(windows, split) -> Iterator[tuple[str, str, bytes]]:
    """(plot id, feature name, PNG bytes) for every input and output feature."""
    rng = np.random.default_rng(0)
    columns = [("input", i, name, windows.X) for i, name in enumerate(windows.input_names)]
    columns += [("output", i, name, windows.y) for i, name in enumerate(windows.output_names)]
    for role, index, name, array in columns:
        groups, labels = [], []
        for split_name in ("train", "validation", "test"):
            rows = getattr(split, split_name)
            if len(rows) == 0:
                continue
            values = array[rows, :, index].ravel()
            values = values[np.isfinite(values)]
            if len(values) > MAX_POINTS:
                values = rng.choice(values, MAX_POINTS, replace=False)
            if len(values):
                groups.append(values)
                labels.append(f"{split_name}\n(n={len(rows)})")
        if groups:
            yield f"violin-{role}-{index}", name, _render(name, groups, labels)


def _render(title: str, groups: list[np.ndarray], labels: list[str]) -> bytes:
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    try:
        axes.violinplot(groups, showmedians=True)
        axes.set_xticks(range(1, len(labels) + 1), labels)
        axes.set_title(title)
        axes.set_ylabel("scaled value")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
