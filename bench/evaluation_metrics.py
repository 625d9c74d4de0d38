"""Metrics of 7 models' predictions (100,000 samples × 24 steps × 3 outputs; quick: 10,000)
through services.evaluation against the same metrics written inline in plain numpy.

Both compute MAE, MSE, RMSE, MAPE, WAPE and sMAPE per feature, overall and per forecast
step, for every model, in the same process on the same arrays. The module also computes
NRMSE (mean and range) and MASE, checks every pair for non-finite values and zeros, and
builds a MetricValue per cell; the plain version does none of that. Each is timed as the
best of REPEATS runs after an untimed one. A second row times the whole split's tables
(3 baselines added, per-step and 1..12 aggregated) for scale.
"""

from __future__ import annotations

import time

import numpy as np

from services.evaluation.baselines import training_mean
from services.evaluation.metric_tables import evaluate_split
from services.evaluation.metrics import Metric, score_forecasts

MODELS = 7
STEPS = 24
OUTPUTS = 3
HISTORY_STEPS = 96
REPEATS = 3
RATIO_GOAL = 1.5


def run(quick: bool = False) -> list[dict]:
    """Times both computations and returns one dict per comparison."""
    samples = 10_000 if quick else 100_000
    actual, models, history = _data(samples)
    scales = [1.0] * OUTPUTS

    module_seconds = _best(lambda: score_forecasts(actual, models, scales))
    plain_seconds = _best(lambda: _plain_numpy(actual, models))
    _check_agreement(score_forecasts(actual, models, scales), _plain_numpy(actual, models))

    means = training_mean(actual)
    features = [f"output_{f}" for f in range(OUTPUTS)]
    tables_seconds = _best(
        lambda: evaluate_split(
            actual, models, features, 15, history=history, train_mean=means, mase_scales=scales, seasons=(96,)
        ),
        repeats=1,
    )
    size = f"{samples:,} samples × {STEPS} steps × {OUTPUTS} outputs × {MODELS} models"
    return [
        {
            "name": f"evaluation metrics overall + per step vs plain numpy ({size})",
            "measured": round(module_seconds, 3),
            "baseline": round(plain_seconds, 3),
            "ratio": round(module_seconds / plain_seconds, 2),
            "goal": f"<= {RATIO_GOAL} (times the plain numpy time)",
        },
        {
            "name": "evaluation tables of one split: models + 3 baselines, overall, per step, 1..12 aggregated "
            f"({size})",
            "measured": round(tables_seconds, 3),
            "baseline": "-",
            "ratio": "-",
            "goal": "report",
        },
    ]


def _data(samples: int) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    generator = np.random.default_rng(11)
    actual = generator.normal(500, 80, (samples, STEPS, OUTPUTS))
    models = {f"model_{m}": actual + generator.normal(0, 5 + 5 * m, actual.shape) for m in range(MODELS)}
    history = generator.normal(500, 80, (samples, HISTORY_STEPS, OUTPUTS))
    return actual, models, history


def _plain_numpy(actual: np.ndarray, models: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """The same six metrics as one would write them inline: per step over axis 0, overall
    over axes 0 and 1, each as (…, n_features)."""
    absolute_actual = np.abs(actual)
    results = {}
    for name, predicted in models.items():
        error = predicted - actual
        absolute_error = np.abs(error)
        squared_error = error * error
        percentage_error = absolute_error / absolute_actual
        symmetric_error = 2 * absolute_error / (absolute_actual + np.abs(predicted))
        metrics = {}
        for scope, axes in (("step", 0), ("overall", (0, 1))):
            mse = squared_error.mean(axis=axes)
            metrics[f"{scope}_mae"] = absolute_error.mean(axis=axes)
            metrics[f"{scope}_mse"] = mse
            metrics[f"{scope}_rmse"] = np.sqrt(mse)
            metrics[f"{scope}_mape"] = 100 * percentage_error.mean(axis=axes)
            metrics[f"{scope}_wape"] = 100 * absolute_error.sum(axis=axes) / absolute_actual.sum(axis=axes)
            metrics[f"{scope}_smape"] = 100 * symmetric_error.mean(axis=axes)
        results[name] = metrics
    return results


def _check_agreement(module, plain) -> None:
    metrics = {"mae": Metric.MAE, "mse": Metric.MSE, "rmse": Metric.RMSE, "mape": Metric.MAPE}
    metrics |= {"wape": Metric.WAPE, "smape": Metric.SMAPE}
    for name, expected in plain.items():
        for key, metric in metrics.items():
            overall = [cell[metric].value for cell in module[name].overall]
            per_step = [[cell[metric].value for cell in step] for step in module[name].per_step]
            np.testing.assert_allclose(overall, expected[f"overall_{key}"], rtol=1e-9)
            np.testing.assert_allclose(per_step, expected[f"step_{key}"], rtol=1e-9)


def _best(compute, repeats: int = REPEATS) -> float:
    compute()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        compute()
        best = min(best, time.perf_counter() - started)
    return best


if __name__ == "__main__":
    for result in run():
        print(result)
