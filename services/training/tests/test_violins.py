"""The dataset's violin plots: one PNG per feature with one violin per split that has
samples, titled once, with text large enough to survive being shown shrunk."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.collections import PolyCollection
from PIL import Image

from services.training import violins
from tsforge.forecasting.splitting import Split
from tsforge.forecasting.windowing import Windows


def _windows() -> Windows:
    generator = np.random.default_rng(0)
    n = 40
    return Windows(
        X=generator.uniform(0, 1, (n, 6, 2)).astype(np.float32),
        y=generator.uniform(0, 1, (n, 3, 1)).astype(np.float32),
        times=np.arange(n).astype("datetime64[h]").astype("datetime64[ns]"),
        dropped=0,
        input_names=("temperature", "calendar.day_sin"),
        output_names=("load",),
    )


def test_one_png_per_feature_titled_with_its_role():
    split = Split(train=np.arange(30), validation=np.arange(30, 35), test=np.arange(35, 40))
    plots = list(violins.violin_plots(_windows(), split))
    assert [(plot_id, name) for plot_id, name, _ in plots] == [
        ("violin-input-0", "temperature"),
        ("violin-input-1", "calendar.day_sin"),
        ("violin-output-0", "load"),
    ]
    for _, _, png in plots:
        image = Image.open(io.BytesIO(png))
        assert image.size == (violins.WIDTH_IN * violins.DPI, violins.HEIGHT_IN * violins.DPI)
        assert np.asarray(image.convert("L")).std() > 1.0


def test_the_figure_has_one_title_one_violin_per_split_and_large_ticks():
    groups = [np.linspace(0, 1, 50), np.linspace(0.2, 0.8, 20)]
    figure = violins.violin_figure("load (output)", groups, ["train\nn=50", "test\nn=20"], scaled=True)
    (axes,) = figure.axes
    assert axes.get_title() == "load (output)"
    assert figure.get_suptitle() == "" and axes.get_title(loc="left") == axes.get_title(loc="right") == ""
    assert _bodies(axes) == 2
    assert [tick.get_text() for tick in axes.get_xticklabels()] == ["train\nn=50", "test\nn=20"]
    assert all(tick.get_fontsize() >= 12 for tick in axes.get_xticklabels() + axes.get_yticklabels())
    assert axes.get_ylabel() == "scaled value"
    calendar = violins.violin_figure("calendar.day_sin (input)", groups, ["a", "b"], scaled=False)
    assert calendar.axes[0].get_ylabel() == "value"


def _bodies(axes) -> int:
    return sum(isinstance(c, PolyCollection) for c in axes.collections)


def test_a_split_without_samples_gets_no_violin():
    split = Split(train=np.arange(35), validation=np.arange(0), test=np.arange(35, 40))
    _, _, figure = next(violins.violin_figures(_windows(), split))
    (axes,) = figure.axes
    assert _bodies(axes) == 2
    assert [tick.get_text() for tick in axes.get_xticklabels()] == ["train\nn=35", "test\nn=5"]
