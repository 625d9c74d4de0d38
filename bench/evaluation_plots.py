"""Time to render each plot kind of an evaluation (services.evaluation.charts), at the
default size (1000 × 600 px, 100 dpi), on data the size of the metrics benchmark's test
split: 10,000 samples × 24 steps of one feature for 7 models (quick: 1,000).

Only the drawing and PNG encoding are timed: a served plot also reads predictions
through the training service once, and is then cached in the object store.
"""

from __future__ import annotations

import time

import numpy as np

from services.evaluation import charts
from services.evaluation.charts import LossHistory, PlotSize

MODELS = 7
STEPS = 24
EPOCHS = 50
VIOLINS = 4
REPEATS = 3


def run(quick: bool = False) -> list[dict]:
    """One dict per plot kind: the best of REPEATS renders, in seconds."""
    samples = 1_000 if quick else 10_000
    generator = np.random.default_rng(7)
    actual = generator.normal(500, 80, (samples, STEPS))
    forecasts = {f"model_{m}": actual + generator.normal(0, 5 + 5 * m, actual.shape) for m in range(MODELS)}
    times = (np.datetime64("2024-01-01T00:00") + np.arange(samples) * np.timedelta64(60, "m")).astype("datetime64[s]")
    size = PlotSize()
    histories = {
        name: LossHistory(
            list(range(1, EPOCHS + 1)),
            list(1 / np.arange(1, EPOCHS + 1)),
            list(1.2 / np.arange(1, EPOCHS + 1)),
            EPOCHS - 5,
        )
        for name in forecasts
    }
    violin = charts.to_png(
        charts.residual_histogram(
            {"x": generator.normal(size=1000)}, title="violin stand-in", xlabel="x", size=PlotSize(500, 350, 100)
        )
    )
    baselines = {
        "baseline: naive": actual[::-1],
        "baseline: seasonal naive": actual[::-1] + 1,
        "baseline: training mean": actual * 0 + 500,
    }
    # Each render is drawn and encoded: the chart functions return Figures.
    figures = {
        f"prediction vs actual ({samples:,} points × {MODELS} models)": lambda: charts.prediction_vs_actual(
            times, actual[:, 0], {k: v[:, 0] for k, v in forecasts.items()}, title="load", ylabel="MW", size=size
        ),
        f"residual histogram ({samples * STEPS:,} residuals × {MODELS} models)": lambda: charts.residual_histogram(
            {k: (actual - v).ravel() for k, v in forecasts.items()}, title="residuals", xlabel="MW", size=size
        ),
        f"error per step ({STEPS} steps × {MODELS} models + 3 baselines)": lambda: charts.error_per_step(
            {k: list(np.abs(actual - v).mean(axis=0)) for k, v in forecasts.items()},
            {k: list(np.abs(actual - v).mean(axis=0)) for k, v in baselines.items()},
            title="RMSE per step",
            ylabel="RMSE",
            size=size,
        ),
        f"loss curves ({MODELS} models × {EPOCHS} epochs)": lambda: charts.loss_curves(
            histories, title="loss per epoch", size=size
        ),
        f"dataset violins ({VIOLINS} stored PNGs in a grid)": lambda: charts.image_grid(
            [violin] * VIOLINS, title="dataset", size=size
        ),
    }
    renders = {name: (lambda draw=draw: charts.to_png(draw())) for name, draw in figures.items()}
    results = []
    for name, render in renders.items():
        best = float("inf")
        for _ in range(REPEATS):
            started = time.perf_counter()
            render()
            best = min(best, time.perf_counter() - started)
        results.append({"name": f"render plot: {name}, 1000×600 px", "measured": round(best, 3)})
    return results


if __name__ == "__main__":
    for result in run():
        print(result)
