"""Statistical models from statsforecast (MSTL, AutoETS, AutoARIMA, SeasonalNaive) in the
platform's contract: fitted once on the output series, forecasting from any window's
reference time.

Each output feature gets its own model, fitted on the scaled output series on its grid
(tsforge.forecasting.target_history) up to the latest training reference time (at most
fit_steps values). A window is forecast from the history_steps grid values at and
before its reference time with the fitted parameters, never refitted:

- AutoETS, AutoARIMA, SeasonalNaive: statsforecast's own `forward(history, h)`. AutoETS
  restarts from the states it fitted at the start of its training series, so by
  default its history runs from that first fitted value (up to 100,000 values; a
  shorter history_steps starts a whole number of seasons after it, in phase): the
  same filter, run on to the reference time. A history that starts months later would
  start from a level months old.
- MSTL: statsforecast's `MSTL.forward` re-runs the decomposition (statsmodels STL) on
  every history, about 2 s for four weeks of half-hourly data: 3 hours for 5,000
  windows. Instead the seasonal components fitted on the training part are kept, each
  as its last cycle repeated (what MSTL's own forecast does with them), and each
  window's history minus those seasonals goes through the fitted trend model's
  `forward` (AutoETS, no season), also from the first fitted value on. Cost per window:
  one ETS filter pass over the history (about 0.1 ms per 1,000 values).

Cost and bounds: fitting MSTL is one decomposition and one AutoETS (seconds); AutoETS
fits in seconds for seasons up to a day of half-hourly steps; AutoARIMA's stepwise
search grows steeply with the season, the orders and the length, so its seasonal AR
and MA orders are capped at 1 (P = 2 at a season of 24 did not finish in 6 minutes on
240 values), it fits on at most 10 seasons (200 values at least) by default and
forecasts from 4 seasons: about 1 s (season 24) to 25 s (season 48) to fit, 2 ms to 80
ms per forecast. SeasonalNaive costs nothing. Forecasting is one `forward` per window
and output feature: about 0.1 ms for ETS.

Gaps: NaN in a history (a file gap) are filled by linear interpolation; values before
the first present one are left out. A window with fewer than two values (the very
first windows of the data) is forecast by its last value. These models read no input
features, lags or calendar columns.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import joblib
import numpy as np

from tsforge.forecasting.estimators.progress import TrainingCancelled
from tsforge.forecasting.estimators.specs import (
    AutoArimaSpec,
    AutoEtsSpec,
    MstlSpec,
    SeasonalNaiveSpec,
    StatisticalModelSpec,
)
from tsforge.forecasting.target_history import HistoryWindows, TargetHistory

os.environ.setdefault("NIXTLA_ID_AS_COL", "1")  # statsforecast's future default, without its warning

_NS_PER_HOUR = 3_600 * 10**9
_DAY_HOURS, _WEEK_HOURS = 24.0, 168.0
ARIMA_FIT_SEASONS, ARIMA_MIN_FIT = 10, 200
ETS_HISTORY_STEPS = 100_000
ShouldStop = Callable[[], bool]


@dataclass
class StatisticalForecaster:
    """One fitted statsforecast model per output feature, and how to forecast with it.

    `lead` is the number of grid steps between the reference time and the output
    horizon's start (the forecast is `lead + output_steps` long, its last output_steps
    kept). `fit_starts[j]` is the grid instant of feature j's first fitted value. For
    MSTL, `seasonals[j]` holds each season's last fitted cycle and `fit_end` the grid
    instant of the last fitted value.
    """

    spec: StatisticalModelSpec
    models: list
    step: int
    lead: int
    output_steps: int
    season_steps: tuple[int, ...]
    fit_starts: list[int]
    fit_end: int
    seasonals: list | None = None
    needs_history: bool = True

    @property
    def n_outputs(self) -> int:
        return len(self.models)

    def predict(self, x: np.ndarray, future: np.ndarray | None = None, history: HistoryWindows | None = None):
        """Scaled forecasts (n, output_steps, n_outputs), float32, one per reference time
        of `history` (x and future only give the count and are not read)."""
        if history is None:
            raise ValueError(f"a {self.spec.kind.value} model forecasts from the output history, which was not given")
        references = history.references
        if len(references) != len(x):
            raise ValueError(f"{len(x)} input windows but {len(references)} reference times")
        result = np.zeros((len(references), self.output_steps, self.n_outputs), dtype=np.float32)
        horizon = self.lead + self.output_steps
        length = self.spec.history_steps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, reference in enumerate(references.tolist()):
                for j in range(self.n_outputs):
                    start = self._history_start(j, reference, length)
                    window = history.history.window(reference, (reference - start) // self.step + 1)
                    forecast = self._forecast(j, window[:, j], reference, horizon)
                    result[i, :, j] = forecast[self.lead :]
        return result

    def _history_start(self, j: int, reference: int, length: int) -> int:
        start = reference - (length - 1) * self.step
        if self.spec.kind.value in ("auto_ets", "mstl"):
            # ETS filters from the states it fitted at its first value: never start before
            # it (its level would start months off), and only a whole number of seasons
            # after it (its seasonal states would be out of phase).
            start = max(start, self.fit_starts[j])
            if self.season_steps[0] > 1 and self.spec.kind.value == "auto_ets":
                period = self.season_steps[0] * self.step
                start += (self.fit_starts[j] - start) % period
        return start

    def _forecast(self, j: int, values: np.ndarray, reference: int, horizon: int) -> np.ndarray:
        first = int(np.argmax(np.isfinite(values))) if np.isfinite(values).any() else len(values)
        if self.spec.kind.value == "auto_ets" and self.season_steps[0] > 1 and first:
            # Keep the phase: drop whole seasons only.
            season = self.season_steps[0]
            first = math.ceil(first / season) * season
        values = _interpolated(values[first:])
        if len(values) < 2:
            last = values[-1] if len(values) else 0.0
            return np.full(horizon, last)
        model = self.models[j]
        try:
            if self.seasonals is not None:
                times = reference - self.step * np.arange(len(values) - 1, -1, -1, dtype=np.int64)
                ahead = reference + self.step * np.arange(1, horizon + 1, dtype=np.int64)
                adjusted = values - self._seasonal(j, times)
                return model.forward(y=adjusted, h=horizon)["mean"] + self._seasonal(j, ahead)
            return np.asarray(model.forward(y=values, h=horizon)["mean"], dtype=np.float64)
        except Exception:  # a history the model cannot filter (too short for its season)
            season = self.season_steps[0]
            if season > 1 and len(values) >= season:
                return np.resize(values[-season:], horizon)
            return np.full(horizon, values[-1])

    def _seasonal(self, j: int, times: np.ndarray) -> np.ndarray:
        total = np.zeros(len(times))
        offset = (times - self.fit_end) // self.step
        for cycle in (self.seasonals or [])[j]:
            period = len(cycle)
            # cycle[-1] is the fitted value at fit_end; cycle[(-1 + k) % period] k steps later.
            total += cycle[(offset - 1) % period]
        return total


def fit_statistical(spec: StatisticalModelSpec, data, should_stop: ShouldStop) -> StatisticalForecaster:
    """Fit one model per output feature on the training part of data.history (a
    TrainingData's TargetHistory, scaled). Raises ValueError without a history or when
    a season is not a whole number of grid steps; TrainingCancelled when should_stop()
    turns true (checked before each output feature)."""
    history: TargetHistory | None = data.history
    if history is None or data.train_references is None:
        raise ValueError(
            f"{spec.kind.value} needs the output series on a regular grid, which this dataset lacks "
            "(the outputs' step widths differ, or step_minutes or a horizon start is not a multiple of the step)"
        )
    step = history.step
    fit_end = int(np.max(data.train_references))
    values = history.until(fit_end)
    spec = _with_defaults(spec, step, len(values))
    season_steps = _season_steps(spec.season_hours, step)
    values = values[-spec.fit_steps :]
    fit_start = fit_end - (len(values) - 1) * step
    models, seasonals, fit_starts = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(values.shape[1]):
            if should_stop():
                raise TrainingCancelled(f"cancelled before output feature {j + 1}")
            series = values[:, j]
            first = int(np.argmax(np.isfinite(series))) if np.isfinite(series).any() else len(series)
            series = _interpolated(series[first:])
            if len(series) < 2 * max(season_steps) + 2:
                raise ValueError(
                    f"{spec.kind.value}: {len(series)} training values are too few for a season of "
                    f"{max(season_steps)} steps"
                )
            model, cycles = _fit_one(spec, series, season_steps)
            models.append(model)
            seasonals.append(cycles)
            fit_starts.append(fit_start + first * step)
    return StatisticalForecaster(
        spec,
        models,
        step,
        history.lead,
        data.y_train.shape[1],
        season_steps,
        fit_starts,
        fit_end,
        seasonals if isinstance(spec, MstlSpec) else None,
    )


def _fit_one(spec: StatisticalModelSpec, series: np.ndarray, season_steps: tuple[int, ...]):
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, SeasonalNaive

    season = season_steps[0]
    if isinstance(spec, MstlSpec):
        seasons = [m for m in season_steps if m > 1]
        if not seasons:
            raise ValueError("MSTL needs a season of at least two steps")
        model = MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN")).fit(series)
        columns = [c for c in model.model_.columns if str(c).startswith("seasonal")]
        cycles = [
            np.asarray(model.model_[column].to_numpy()[-period:], dtype=np.float64)
            for column, period in zip(columns, sorted(seasons))
        ]
        # Only the trend model is used from here on (the seasonals are kept as cycles).
        return model.trend_forecaster, cycles
    if isinstance(spec, AutoEtsSpec):
        return AutoETS(season_length=season, model="ZZZ").fit(series), None
    if isinstance(spec, AutoArimaSpec):
        # Seasonal orders above 1 make the state (and the fit) grow by whole seasons.
        model = AutoARIMA(season_length=season, max_p=3, max_q=3, max_P=1, max_Q=1, max_order=4)
        return model.fit(series), None
    return SeasonalNaive(season_length=season).fit(series), None


def _with_defaults(spec: StatisticalModelSpec, step: int, available: int) -> StatisticalModelSpec:
    seasons = spec.season_hours
    if not seasons:
        seasons = default_seasons(step, available)
        if not isinstance(spec, MstlSpec):
            seasons = seasons[:1]
    season_steps = _season_steps(seasons, step) if seasons else (1,)
    longest = max(season_steps)
    history = spec.history_steps
    if not history:
        if isinstance(spec, SeasonalNaiveSpec):
            history = longest + 1
        elif isinstance(spec, AutoArimaSpec):
            history = max(48, 4 * longest)
        else:  # ETS (also MSTL's trend): filter from the fit's first value on
            history = ETS_HISTORY_STEPS
    fit = spec.fit_steps
    if not fit:
        fit = available
        if isinstance(spec, AutoArimaSpec):
            fit = max(ARIMA_MIN_FIT, ARIMA_FIT_SEASONS * longest)
    return replace(spec, season_hours=tuple(seasons), history_steps=history, fit_steps=fit)


def default_seasons(step: int, available_steps: int) -> tuple[float, ...]:
    """A day when it is a whole number (>= 2) of steps, and a week when the training
    part also covers at least three weeks; none when a day is not a whole number."""
    seasons: list[float] = []
    for hours, needed in ((_DAY_HOURS, 2), (_WEEK_HOURS, 3)):
        length = round(hours * _NS_PER_HOUR)
        if length % step or length // step < 2:
            break
        if available_steps * step < needed * length:
            break
        seasons.append(hours)
    return tuple(seasons)


def _season_steps(season_hours, step: int) -> tuple[int, ...]:
    steps = []
    for hours in season_hours:
        length = round(hours * _NS_PER_HOUR)
        if length % step:
            raise ValueError(f"a season of {hours:g} h is not a whole number of {step / 6e10:g}-minute steps")
        steps.append(length // step)
    return tuple(steps) or (1,)


def _interpolated(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    missing = ~np.isfinite(values)
    if missing.any() and not missing.all():
        positions = np.arange(len(values))
        values = values.copy()
        values[missing] = np.interp(positions[missing], positions[~missing], values[~missing])
    return values


def to_bytes(model: StatisticalForecaster) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()
