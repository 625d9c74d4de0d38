"""The automatic preset (TrainAuto): from a session's spec and its files' profiles, choose
seasons, lags, calendar features at the output steps and a portfolio of models with
time budgets, then build a dataset and queue the run.

The choices, in `plan`:

- Seasons: a day when it is a whole number (>= 2) of output steps and the files overlap
  for at least two days; a week when it is a whole number of steps and they overlap
  for at least three weeks (a weekly pattern needs a few cycles to be told from noise).
- Lags: for each season S, the first output's values k * S before each output step,
  k the smallest whole number with k * S >= the output horizon's end (so it is known at
  the reference time). Lags the session already has are kept.
- Future calendar: position in the day (with a daily season) and in the week (with a
  weekly one), and the holiday flag when the session's calendar has a holiday country,
  in the session's time zone; added to what the session already asks for.
- Models, cheapest first: seasonal naive per season (the baselines, as models),
  linear regression, LightGBM (direct), MSTL over the seasons (when there is a season
  and the outputs have a regular grid), a small Dense network, and the ensemble of them
  all. Budgets (ModelSpec.time_limit) share out 80 % of the time limit, the rest left
  for the dataset build and storing results; time a model leaves over goes to the next.

The run's summary names the best model on the validation split (lowest MAE).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

from google.protobuf import duration_pb2

from tsforge.forecasting.protos import feature_spec, window_spec
from tsforge.forecasting.target_history import grid_problem
from tsforge.training.v1 import training_resources_pb2 as tr

DEFAULT_TIME_LIMIT = timedelta(minutes=10)
TIME_LIMIT_RANGE = (timedelta(seconds=60), timedelta(hours=24))
_HOUR_NS = 3_600 * 10**9
_DAY, _WEEK = 24.0, 168.0
BUDGET_SHARE = 0.8
# Shares of the budget, in portfolio order (seasonal naive: each).
_SHARES = {"seasonal_naive": 0.01, "linear_regression": 0.03, "lightgbm": 0.2, "mstl": 0.2, "dense": 0.5}
DENSE = tr.NeuralParams(layers=2, units=64, epochs=40, batch_size=64, early_stopping_patience=4)


def plan_auto(spec: tr.DatasetSpec, spans: Sequence[tuple[int, int]], time_limit: timedelta) -> tr.AutoPlan:
    """The preset's plan for a defaulted spec whose files span `spans` (first and last
    time, int64 ns, per file). Pure: reads nothing."""
    notes: list[str] = []
    first, last = max(s[0] for s in spans), min(s[1] for s in spans)
    overlap_hours = max(0, last - first) / _HOUR_NS
    output = feature_spec(spec.outputs[0])
    step_hours = (output.end_hours - output.start_hours) / spec.window.output_steps
    seasons = []
    for season, needed in ((_DAY, 2 * _DAY), (_WEEK, 3 * _WEEK)):
        steps = season / step_hours
        if abs(steps - round(steps)) > 1e-9 or round(steps) < 2:
            notes.append(f"no season of {season:g} h: it is not a whole number of {step_hours * 60:g}-minute steps")
            break
        if overlap_hours < needed:
            notes.append(
                f"no season of {season:g} h: the files overlap for {overlap_hours / 24:.1f} days, "
                f"fewer than the {needed / 24:g} it needs"
            )
            break
        seasons.append(season)
        notes.append(
            f"a season of {season:g} h ({round(steps)} steps): the files overlap for {overlap_hours / 24:.1f} days"
        )

    derived = tr.DatasetSpec()
    derived.CopyFrom(spec)
    horizon_end = max(o.horizon.end for o in spec.outputs)
    existing = {(lag.file, lag.column, lag.lag_hours) for lag in spec.lags}
    for season in seasons:
        lag_hours = season * max(1, math.ceil(horizon_end / season - 1e-9))
        key = (spec.outputs[0].file, spec.outputs[0].column, lag_hours)
        if key in existing:
            continue
        derived.lags.add(file=key[0], column=key[1], lag_hours=lag_hours)
        notes.append(f"a lag of {lag_hours:g} h of {spec.outputs[0].feature!r} at every output step")
    future = derived.future_calendar
    future.time_zone = future.time_zone if future.time_zone and future.time_zone != "UTC" else spec.calendar.time_zone
    future.day = future.day or _DAY in seasons
    future.week = future.week or _WEEK in seasons
    if spec.calendar.holiday and not future.holiday:
        future.holiday = True
        future.holiday_country, future.holiday_subdivision = (
            spec.calendar.holiday_country,
            spec.calendar.holiday_subdivision,
        )
        notes.append(f"the {spec.calendar.holiday_country} holiday flag at every output step")
    chosen = [name for name in ("day", "week") if getattr(future, name)]
    if chosen:
        notes.append(f"calendar at the output steps: {', '.join(chosen)} ({future.time_zone})")

    models = _portfolio(derived, seasons, time_limit, notes)
    plan = tr.AutoPlan(season_hours=seasons, dataset_spec=derived, model_specs=models, notes=notes)
    plan.time_limit.FromTimedelta(time_limit)
    return plan


def _portfolio(spec: tr.DatasetSpec, seasons: list[float], time_limit: timedelta, notes: list[str]):
    budget = time_limit.total_seconds() * BUDGET_SHARE
    models: list[tr.ModelSpec] = []

    def add(model_id: str, share: float | None, **params) -> None:
        model = tr.ModelSpec(model_id=model_id, **params)
        if share is not None:
            model.time_limit.CopyFrom(duration_pb2.Duration(seconds=max(5, round(budget * share))))
        models.append(model)

    for season in seasons:
        add(
            f"seasonal-naive-{season:g}h",
            _SHARES["seasonal_naive"],
            seasonal_naive=tr.StatisticalParams(season_hours=[season]),
        )
    add("linear", _SHARES["linear_regression"], linear_regression=tr.LinearRegressionParams())
    add("lightgbm", _SHARES["lightgbm"], lightgbm=tr.LightGbmParams())
    problem = grid_problem([feature_spec(o) for o in spec.outputs], window_spec(spec.window))
    if seasons and problem is None:
        add("mstl", _SHARES["mstl"], mstl=tr.StatisticalParams(season_hours=seasons))
    elif seasons:
        notes.append(f"no MSTL: {problem}")
    add("dense", _SHARES["dense"], dense=tr.DenseParams(neural=DENSE))
    add("ensemble", None, ensemble=tr.EnsembleParams())
    notes.append(
        f"{len(models)} models within {time_limit.total_seconds():g} s: "
        + ", ".join(m.model_id for m in models)
        + "; the best on validation is named in the run's summary"
    )
    return models


class AutoPreset:
    """TrainAuto: plan from the session and its files' profiles, build, queue the run."""

    def __init__(self, sessions, jobs, uploads):
        self._sessions, self._jobs, self._uploads = sessions, jobs, uploads

    def start(
        self,
        tenant: str,
        session_id: str,
        time_limit: timedelta | None,
        display_name: str,
        gap_tolerance: duration_pb2.Duration | None,
    ) -> tuple[tr.Dataset, tr.Run, tr.AutoPlan]:
        """Raises InvalidArgument (a time limit out of range, a spec the plan cannot
        use), NotFound (the session or a file), FailedPrecondition / QuotaExceeded as
        BuildDataset and CreateRun, Unavailable (the upload service)."""
        from tsforge.core.errors import FieldViolation, InvalidArgument, NotFound

        limit = time_limit or DEFAULT_TIME_LIMIT
        low, high = TIME_LIMIT_RANGE
        if not low <= limit <= high:
            raise InvalidArgument(FieldViolation("time_limit", "must be between 60 s and 24 h"))
        session = self._sessions.get(tenant, session_id)
        spans = []
        for feature in (*session.spec.inputs, *session.spec.outputs):
            file = self._uploads.get_file(tenant, feature.file)
            if file is None:
                raise NotFound(feature.file)
            profile = file.profile
            spans.append((profile.first_time.ToNanoseconds(), profile.last_time.ToNanoseconds()))
        plan = plan_auto(session.spec, spans, limit)
        spec = self._sessions.check_spec(tenant, plan.dataset_spec)
        plan.dataset_spec.CopyFrom(spec)
        dataset = self._jobs.build_dataset(tenant, session_id, gap_tolerance, spec=spec)
        run = self._jobs.create_run(
            tenant, tr.Run(dataset=dataset.name, display_name=display_name or "auto", model_specs=plan.model_specs)
        )
        return dataset, run, plan
