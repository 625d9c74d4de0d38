"""LightGBM on flattened windows: direct per step, or one booster per output feature with
the step index as a feature.

A booster for step k reads the input window's feature columns flattened
(input_steps * (n_inputs - n_calendar) columns, row-major), the calendar columns at the
last input step (n_calendar: at the other steps they only repeat it, shifted in phase),
step k's row of the future window (n_future columns: lags and calendar at that step),
and for the step-feature strategy then the step index k (0-based). Direct:
boosters[k * n_outputs + j] forecasts feature j at step k. Step-feature: boosters[j]
forecasts feature j at every step, from rows ordered sample-major (row i * output_steps
+ k is window i at step k).

Boosting stops early when the validation split's L2 error has not improved for
early_stopping_rounds rounds; the best round is kept. Artifacts are JSON documents
holding each booster as LightGBM's own text model (`Booster.model_to_string`), which
`lightgbm.Booster(model_str=...)` loads anywhere, without tsforge.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import lightgbm
import numpy as np

from tsforge.forecasting.estimators.progress import TrainingCancelled
from tsforge.forecasting.estimators.specs import LightGbmSpec

FORMAT = "tsforge-lightgbm"
FORMAT_VERSION = 1
ShouldStop = Callable[[], bool]


def booster_rows(
    x: np.ndarray, future: np.ndarray | None, step: int, with_step: bool, n_calendar: int = 0
) -> np.ndarray:
    """The feature rows of every window for one forecast step (see the module docstring)."""
    x = np.asarray(x, dtype=np.float64)
    features = x.shape[2] - n_calendar
    parts = [x[:, :, :features].reshape(len(x), -1), x[:, -1, features:]]
    if future is not None and future.shape[2]:
        parts.append(np.asarray(future[:, step, :], dtype=np.float64))
    if with_step:
        parts.append(np.full((len(x), 1), float(step)))
    return np.concatenate(parts, axis=1)


def step_feature_rows(x: np.ndarray, future: np.ndarray | None, output_steps: int, n_calendar: int = 0) -> np.ndarray:
    """All steps' rows, sample-major: row i * output_steps + k is window i at step k."""
    per_step = [booster_rows(x, future, k, True, n_calendar) for k in range(output_steps)]
    return np.stack(per_step, axis=1).reshape(len(x) * output_steps, -1)


class LightGbmForecaster:
    """Fitted boosters and the window shapes they read."""

    needs_history = False

    def __init__(
        self,
        strategy: str,
        boosters: list,
        input_steps: int,
        n_inputs: int,
        output_steps: int,
        n_outputs: int,
        n_future: int,
        n_calendar: int = 0,
    ):
        self.strategy = strategy
        self.boosters = boosters
        self.input_steps, self.n_inputs = input_steps, n_inputs
        self.output_steps, self.n_outputs, self.n_future = output_steps, n_outputs, n_future
        self.n_calendar = n_calendar

    def predict(self, x: np.ndarray, future: np.ndarray | None = None, history=None) -> np.ndarray:
        """Scaled output windows (n, output_steps, n_outputs), float32. Raises ValueError
        for windows shaped unlike the training ones."""
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1:] != (self.input_steps, self.n_inputs):
            raise ValueError(f"expected input windows (n, {self.input_steps}, {self.n_inputs}), got {x.shape}")
        if self.n_future and (future is None or np.shape(future) != (len(x), self.output_steps, self.n_future)):
            got = None if future is None else np.shape(future)
            raise ValueError(f"expected future windows (n, {self.output_steps}, {self.n_future}), got {got}")
        result = np.zeros((len(x), self.output_steps, self.n_outputs), dtype=np.float32)
        if len(x) == 0:
            return result
        if self.strategy == "direct":
            for k in range(self.output_steps):
                rows = booster_rows(x, future, k, False, self.n_calendar)
                for j in range(self.n_outputs):
                    result[:, k, j] = self.boosters[k * self.n_outputs + j].predict(rows)
        else:
            rows = step_feature_rows(x, future, self.output_steps, self.n_calendar)
            for j in range(self.n_outputs):
                result[:, :, j] = self.boosters[j].predict(rows).reshape(len(x), self.output_steps)
        return result


def fit_lightgbm(
    spec: LightGbmSpec,
    seed: int,
    data,
    should_stop: ShouldStop,
    threads: int | None = None,
    deadline: float | None = None,
) -> LightGbmForecaster:
    """Fit the boosters of `spec` on a TrainingData. Checks should_stop after every
    boosting round (raises TrainingCancelled). A deadline (time.monotonic()) is shared
    out evenly among the boosters still to fit; each stops at its share."""
    n, input_steps, n_inputs = data.x_train.shape
    _, output_steps, n_outputs = data.y_train.shape
    n_future, n_calendar = data.n_future, data.n_calendar
    params = {
        "objective": "regression",
        "learning_rate": spec.learning_rate,
        "num_leaves": spec.num_leaves,
        "min_child_samples": spec.min_child_samples,
        "seed": seed % 2**31,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": threads or 0,
        "verbosity": -1,
    }
    jobs = []  # (train rows, train target, validation rows, validation target)
    if spec.strategy == "direct":
        for k in range(output_steps):
            rows = booster_rows(data.x_train, data.future_train, k, False, n_calendar)
            val_rows = booster_rows(data.x_val, data.future_val, k, False, n_calendar)
            for j in range(n_outputs):
                jobs.append((rows, data.y_train[:, k, j], val_rows, data.y_val[:, k, j]))
    else:
        rows = step_feature_rows(data.x_train, data.future_train, output_steps, n_calendar)
        val_rows = step_feature_rows(data.x_val, data.future_val, output_steps, n_calendar)
        for j in range(n_outputs):
            jobs.append((rows, data.y_train[:, :, j].reshape(-1), val_rows, data.y_val[:, :, j].reshape(-1)))
    boosters = []
    for index, (rows, target, val_rows, val_target) in enumerate(jobs):
        share = None
        if deadline is not None:
            now = time.monotonic()
            share = now + max(0.0, deadline - now) / (len(jobs) - index)
        boosters.append(_fit_one(params, spec, rows, target, val_rows, val_target, should_stop, share))
    return LightGbmForecaster(
        spec.strategy, boosters, input_steps, n_inputs, output_steps, n_outputs, n_future, n_calendar
    )


def _fit_one(params, spec: LightGbmSpec, rows, target, val_rows, val_target, should_stop, deadline):
    train_set = lightgbm.Dataset(rows, label=np.asarray(target, dtype=np.float64), free_raw_data=True)
    callbacks = [_stop_callback(should_stop, deadline)]
    valid_sets = []
    if len(val_rows) and spec.early_stopping_rounds:
        valid_sets = [lightgbm.Dataset(val_rows, label=np.asarray(val_target, dtype=np.float64), reference=train_set)]
        callbacks.append(lightgbm.early_stopping(spec.early_stopping_rounds, verbose=False))
    booster = lightgbm.train(
        params, train_set, num_boost_round=spec.n_estimators, valid_sets=valid_sets, callbacks=callbacks
    )
    if booster.best_iteration > 0:
        # Keep only the best rounds, so that the text model is what predicts.
        booster = lightgbm.Booster(model_str=booster.model_to_string(num_iteration=booster.best_iteration))
    return booster


def _stop_callback(should_stop: ShouldStop, deadline: float | None):
    def callback(env) -> None:
        if should_stop():
            raise TrainingCancelled(f"cancelled after boosting round {env.iteration + 1}")
        if deadline is not None and time.monotonic() >= deadline and env.iteration > 0:
            raise lightgbm.callback.EarlyStopException(env.iteration, env.evaluation_result_list)

    callback.order = 5  # type: ignore[attr-defined]  # LightGBM runs callbacks by order; early stopping is 30
    return callback


def to_bytes(model: LightGbmForecaster) -> bytes:
    """The artifact: JSON with the window shapes and every booster's text model."""
    return json.dumps(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "strategy": model.strategy,
            "input_shape": [model.input_steps, model.n_inputs],
            "output_shape": [model.output_steps, model.n_outputs],
            "n_future": model.n_future,
            "n_calendar": model.n_calendar,
            "models": [booster.model_to_string() for booster in model.boosters],
        }
    ).encode()


def from_bytes(artifact: bytes) -> LightGbmForecaster:
    """Raises ValueError for a document that is not a tsforge LightGBM artifact."""
    try:
        document = json.loads(artifact)
        if document.get("format") != FORMAT or document.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"not a {FORMAT} document (version {FORMAT_VERSION})")
        boosters = [lightgbm.Booster(model_str=text) for text in document["models"]]
        input_steps, n_inputs = document["input_shape"]
        output_steps, n_outputs = document["output_shape"]
        return LightGbmForecaster(
            document["strategy"],
            boosters,
            input_steps,
            n_inputs,
            output_steps,
            n_outputs,
            document["n_future"],
            document.get("n_calendar", 0),
        )
    except (KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not a tsforge LightGBM artifact: {error}") from error
