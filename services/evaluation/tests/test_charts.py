"""Every plot kind: the Figure it builds (panels, titles, legends, scales) and the PNG
it encodes to (exactly the size asked for, not blank)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from services.evaluation import charts
from services.evaluation.charts import Band, LossHistory, PlotSize


def assert_png(data: bytes, width: int, height: int) -> None:
    """A PNG of width × height pixels that is not one flat colour."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    assert image.size == (width, height)
    pixels = np.asarray(image.convert("L"), dtype=np.float64)
    assert pixels.std() > 1.0, "the image is blank"
    assert (pixels < 128).mean() > 0.001, "nothing dark was drawn"


SIZE = PlotSize(640, 360, 80)
TIMES = (np.datetime64("2024-03-01T00:00") + np.arange(96) * np.timedelta64(30, "m")).astype("datetime64[s]")
ACTUAL = 500 + 100 * np.sin(np.arange(96) / 48 * 2 * np.pi)


def _forecasts(count: int) -> dict[str, np.ndarray]:
    generator = np.random.default_rng(3)
    return {f"model_{m}": ACTUAL + generator.normal(0, 5 + 5 * m, len(ACTUAL)) for m in range(count)}


def _prediction_vs_actual(count: int = 3, bands=None, size: PlotSize = SIZE) -> Figure:
    return charts.prediction_vs_actual(
        TIMES, ACTUAL, _forecasts(count), bands=bands, title="load: forecast step 2 (1 h ahead)", ylabel="MW", size=size
    )


def _residuals(count: int = 2) -> Figure:
    generator = np.random.default_rng(4)
    residuals = {f"model_{m}": generator.normal(m, 1 + m, 500) for m in range(count)}
    residuals["model_0"][:3] = np.nan  # left out, and not counted
    return charts.residual_histogram(residuals, title="load: residuals", xlabel="actual − forecast (MW)", size=SIZE)


MODEL_ERRORS = {"dense": [10.0, 12.0, np.nan, 15.0], "svr": [11.0, 13.0, 14.0, 16.0]}
NEAR_BASELINES = {"baseline: naive": [9.0, 16.0, 22.0, 30.0]}
FAR_BASELINES = {**NEAR_BASELINES, "baseline: training mean": [260.0] * 4}


def _error_per_step(baselines=FAR_BASELINES) -> Figure:
    return charts.error_per_step(MODEL_ERRORS, baselines, title="load: RMSE per step", ylabel="RMSE", size=SIZE)


def _loss_curves(first_epoch_loss: float = 5.0) -> Figure:
    histories = {
        "dense": LossHistory([1, 2, 3, 4], [first_epoch_loss, 0.5, 0.4, 0.35], [first_epoch_loss, 0.6, None, 0.5], 2),
        "cnn": LossHistory([1, 2, 3], [first_epoch_loss, 0.5, 0.45], [None, None, None]),
    }
    return charts.loss_curves(histories, title="loss per epoch", size=SIZE)


def _violin_stand_in(title: str) -> bytes:
    figure = charts.error_per_step({"m": [1.0, 2.0]}, {}, title=title, ylabel="x", size=PlotSize(500, 350, 100))
    return charts.to_png(figure)


def _image_grid(count: int = 3) -> Figure:
    images = [_violin_stand_in(f"feature {i}") for i in range(count)]
    return charts.image_grid(images, title="dataset: distribution of each feature per split", size=PlotSize())


def _texts(legend) -> list[str]:
    return [text.get_text() for text in legend.get_texts()]


def _titles(figure: Figure) -> list[str]:
    return [axes.get_title(loc="left") for axes in figure.axes]


RENDERS = {
    "prediction_vs_actual": _prediction_vs_actual,
    "residual_histogram": _residuals,
    "error_per_step": _error_per_step,
    "loss_curves": _loss_curves,
    "image_grid": _image_grid,
    "empty": lambda: charts.prediction_vs_actual(
        np.array([], dtype="datetime64[s]"), np.array([]), {"dense": np.array([])}, title="e", ylabel="MW", size=SIZE
    ),
}


@pytest.mark.parametrize("kind", RENDERS)
def test_each_plot_is_a_png_of_the_size_asked_for_and_not_blank(kind, tmp_path):
    figure = RENDERS[kind]()
    data = charts.to_png(figure)
    width, height = (int(round(v)) for v in figure.bbox.size)
    assert_png(data, width, height)
    # TSFORGE_PLOTS_DIR=folder keeps the images, to look at them.
    folder = Path(os.environ.get("TSFORGE_PLOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{kind}.png").write_bytes(data)


# At these extremes the text does not fit and matplotlib says so; the size still holds.
@pytest.mark.filterwarnings("ignore:constrained_layout not applied")
@pytest.mark.parametrize("size", [PlotSize(100, 100, 97), PlotSize(333, 4000, 600), PlotSize(4000, 101, 50)])
def test_the_png_is_exactly_the_size_asked_for_at_odd_sizes_and_resolutions(size):
    data = charts.to_png(_prediction_vs_actual(size=size))
    assert Image.open(io.BytesIO(data)).size == (size.width_px, size.height_px)


def test_prediction_vs_actual_draws_one_panel_per_model_on_shared_axes():
    figure = _prediction_vs_actual(3)
    assert _titles(figure) == ["model_0", "model_1", "model_2"]
    assert figure.get_suptitle() == "load: forecast step 2 (1 h ahead)"
    assert figure.get_supylabel() == "MW" and figure.get_supxlabel() == "time (UTC)"
    first, *others = figure.axes
    for panel in others:
        assert first.get_shared_x_axes().joined(first, panel) and first.get_shared_y_axes().joined(first, panel)
    for panel in figure.axes:
        assert _texts(panel.get_legend()) == ["actual", "forecast"]
        assert len(panel.get_lines()) == 2  # the actual values and this panel's model only
    # Stacked in one column: only the bottom panel labels the time axis.
    assert [panel.xaxis.get_tick_params()["labelbottom"] for panel in figure.axes] == [False, False, True]


def test_prediction_vs_actual_wraps_many_models_into_columns_labelling_each_bottom_panel():
    figure = _prediction_vs_actual(7)
    assert len(figure.axes) == 7
    columns = {round(panel.get_position().x0, 3) for panel in figure.axes}
    assert len(columns) == 2
    # model_5 is the bottom of the second column (its lower neighbour was never drawn).
    labelled = [panel.get_title(loc="left") for panel in figure.axes if panel.xaxis.get_tick_params()["labelbottom"]]
    assert labelled == ["model_5", "model_6"]


def test_prediction_intervals_are_bands_in_the_legend_narrowest_first():
    forecast = _forecasts(2)["model_0"]
    bands = {"model_0": [Band(0.95, forecast - 30, forecast + 30), Band(0.8, forecast - 15, forecast + 15)]}
    figure = _prediction_vs_actual(2, bands=bands)
    banded, plain = figure.axes
    assert _texts(banded.get_legend()) == ["actual", "forecast", "80% interval", "95% interval"]
    assert len(banded.collections) == 2 and not plain.collections
    assert _texts(plain.get_legend()) == ["actual", "forecast"]


def test_prediction_intervals_tint_the_png():
    forecast = _forecasts(1)["model_0"]

    def pixels(bands) -> np.ndarray:
        data = charts.to_png(_prediction_vs_actual(1, bands=bands))
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)

    plain = pixels(None)
    banded = pixels({"model_0": [Band(0.8, forecast - 30, forecast + 30), Band(0.95, forecast - 50, forecast + 50)]})
    white = (plain == 255).all(axis=2)
    tinted = white & ~(banded == 255).all(axis=2)
    assert tinted.mean() > 0.05


def test_residual_histograms_are_small_multiples_on_shared_bins():
    figure = _residuals(2)
    assert [title.split(":")[0] for title in _titles(figure)] == ["model_0", "model_1"]
    assert "n=497" in _titles(figure)[0] and "n=500" in _titles(figure)[1]
    assert "mean" in _titles(figure)[0] and "sd" in _titles(figure)[0]
    # Both to the decimals that sd's three significant digits need, never "mean -0.000791".
    summaries = (([-1.0, 1.0, 1e-9], "mean 0.000, sd 0.816, n=3"), ([10.0, 40.0], "mean 25.0, sd 15.0, n=2"))
    for values, summary in summaries:
        single = charts.residual_histogram({"m": np.array(values)}, title="t", xlabel="", size=SIZE)
        assert _titles(single) == [f"m: {summary}"]
    first, second = figure.axes
    assert first.get_shared_x_axes().joined(first, second) and first.get_shared_y_axes().joined(first, second)
    edges = [[bar.get_x() for bar in panel.patches] for panel in figure.axes]
    assert len(edges[0]) == charts.HISTOGRAM_BINS and edges[0] == edges[1]
    assert first.patches[0].get_facecolor() != second.patches[0].get_facecolor()
    assert figure.get_supxlabel() == "actual − forecast (MW)" and figure.get_supylabel() == "count"


def test_many_residual_histograms_fill_a_near_square_grid():
    figure = _residuals(5)
    assert len(figure.axes) == 5
    assert len({round(panel.get_position().x0, 3) for panel in figure.axes}) == 3


def test_error_per_step_goes_logarithmic_and_says_so_when_a_baseline_squashes_the_models():
    figure = _error_per_step(FAR_BASELINES)
    (axes,) = figure.axes
    assert axes.get_yscale() == "log"
    assert axes.get_title().endswith("(log scale)") and axes.get_ylabel() == "RMSE, log scale"
    (legend,) = figure.legends
    assert _texts(legend) == ["dense", "svr", "baseline: naive", "baseline: training mean"]
    figure.canvas.draw()
    labels = [tick.get_text() for tick in axes.get_yticklabels() if tick.get_text()]
    assert labels and all("10^" not in label and "$" not in label for label in labels), labels


def test_error_per_step_stays_linear_from_zero_when_the_baselines_are_near_the_models():
    figure = _error_per_step(NEAR_BASELINES)
    (axes,) = figure.axes
    bottom, top = axes.get_ylim()
    assert axes.get_yscale() == "linear" and -0.05 * top < bottom <= 0
    assert "log" not in axes.get_title() and axes.get_ylabel() == "RMSE"
    models = [line for line in axes.get_lines() if line.get_linestyle() == "-"]
    assert [line.get_label() for line in models] == ["dense", "svr"]
    assert [line.get_label() for line in axes.get_lines() if line not in models] == ["baseline: naive"]


def test_loss_curves_are_logarithmic_when_the_first_epoch_dominates_and_linear_otherwise():
    figure = _loss_curves(first_epoch_loss=5.0)
    assert _titles(figure) == ["dense", "cnn"]
    assert all(panel.get_yscale() == "log" for panel in figure.axes)
    assert figure.get_supylabel() == "MSE of scaled values, log scale"
    (legend,) = figure.legends
    assert _texts(legend) == ["loss", "val_loss", "kept epoch"]
    assert all(panel.get_legend() is None for panel in figure.axes)
    assert figure.axes[0].get_shared_y_axes().joined(*figure.axes)
    calm = _loss_curves(first_epoch_loss=0.6)
    assert all(panel.get_yscale() == "linear" for panel in calm.axes)
    assert calm.get_supylabel() == "MSE of scaled values"


def test_the_violin_grid_adds_no_titles_of_its_own_and_keeps_the_images_large():
    figure = _image_grid(2)
    assert len(figure.axes) == 2
    assert all(panel.get_title() == "" for panel in figure.axes)
    assert figure.get_suptitle() == "dataset: distribution of each feature per split"
    # 2 images of 500 × 350 at 1000 × 600: side by side, each at full size.
    widths = [panel.get_position().width * 1000 for panel in figure.axes]
    assert widths == pytest.approx([500, 500])
    assert len(_image_grid(6).axes) == 6


@pytest.mark.parametrize(
    "render",
    [
        lambda: charts.prediction_vs_actual(
            np.array([], dtype="datetime64[s]"), np.array([]), {"dense": np.array([])}, title="t", ylabel="", size=SIZE
        ),
        lambda: charts.residual_histogram({"dense": np.array([np.nan])}, title="t", xlabel="", size=SIZE),
        lambda: charts.error_per_step({}, {}, title="t", ylabel="", size=SIZE),
        lambda: charts.loss_curves({}, title="t", size=SIZE),
        lambda: charts.image_grid([], title="t", size=SIZE),
    ],
    ids=["prediction_vs_actual", "residual_histogram", "error_per_step", "loss_curves", "image_grid"],
)
def test_nothing_to_draw_is_one_panel_that_says_so(render):
    figure = render()
    (axes,) = figure.axes
    assert axes.get_title() == "t" and len(axes.texts) == 1 and axes.texts[0].get_text().startswith("no ")
