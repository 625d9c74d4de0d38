"""Every plot kind renders a PNG of exactly the size asked for, and draws something."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from services.evaluation import charts
from services.evaluation.charts import LossHistory, PlotSize


def assert_png(data: bytes, width: int, height: int) -> None:
    """A PNG of width × height pixels that is not one flat colour."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    assert image.size == (width, height)
    pixels = np.asarray(image.convert("L"), dtype=np.float64)
    assert pixels.std() > 1.0, "the image is blank"
    assert (pixels < 128).mean() > 0.001, "nothing dark was drawn"


def _violin_png() -> bytes:
    return charts.error_per_step({"m": [1.0, 2.0]}, title="violin stand-in", ylabel="x", size=PlotSize(300, 200, 100))


SIZE = PlotSize(640, 360, 80)
generator = np.random.default_rng(3)


@pytest.mark.parametrize(
    "render",
    [
        lambda: charts.prediction_vs_actual(
            np.arange(50).astype("datetime64[h]"),
            np.sin(np.arange(50) / 5),
            {"dense": np.sin(np.arange(50) / 5) + 0.1},
            title="load",
            ylabel="MW",
            size=SIZE,
        ),
        lambda: charts.residual_histogram(
            {"dense": generator.normal(size=500), "svr": generator.normal(1, 2, 500)},
            title="residuals",
            xlabel="MW",
            size=SIZE,
        ),
        lambda: charts.error_per_step(
            {"dense": [1.0, 2.0, np.nan, 3.0], "baseline naive": [2.0, 2.5, 3.0, 3.5]},
            title="RMSE per step",
            ylabel="RMSE",
            size=SIZE,
        ),
        lambda: charts.loss_curves(
            {
                "dense": LossHistory([1, 2, 3], [1.0, 0.5, 0.4], [1.1, 0.6, None], 2),
                "cnn": LossHistory([1, 2], [2.0, 1.0], [None, None]),
            },
            size=SIZE,
        ),
        lambda: charts.image_grid([("load", _violin_png()), ("temperature", _violin_png())], size=SIZE),
        lambda: charts.prediction_vs_actual(
            np.array([], dtype="datetime64[s]"), np.array([]), {}, title="empty", ylabel="MW", size=SIZE
        ),
    ],
    ids=["prediction_vs_actual", "residual_histogram", "error_per_step", "loss_curves", "image_grid", "empty"],
)
def test_each_plot_is_a_png_of_the_size_asked_for_and_not_blank(render):
    assert_png(render(), SIZE.width_px, SIZE.height_px)


def test_prediction_intervals_are_drawn_as_bands():
    times = np.arange(50).astype("datetime64[h]")
    forecast = np.sin(np.arange(50) / 5)

    def render(bands):
        return charts.prediction_vs_actual(
            times, forecast + 0.05, {"dense": forecast}, bands=bands, title="load", ylabel="MW", size=SIZE
        )

    plain = np.asarray(Image.open(io.BytesIO(render({}))).convert("RGB"), dtype=np.int16)
    banded_png = render(
        {"dense": [charts.Band(0.8, forecast - 0.3, forecast + 0.3), charts.Band(0.95, forecast - 0.5, forecast + 0.5)]}
    )
    assert_png(banded_png, SIZE.width_px, SIZE.height_px)
    banded = np.asarray(Image.open(io.BytesIO(banded_png)).convert("RGB"), dtype=np.int16)
    # The bands tint many pixels the plain chart left white.
    white = (plain == 255).all(axis=2)
    tinted = white & ~(banded == 255).all(axis=2)
    assert tinted.mean() > 0.05
