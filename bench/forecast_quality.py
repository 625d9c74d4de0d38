"""Forecast quality: the automatic preset against seasonal naive baselines and peers
computed in the same run, on the series of bench.forecast_series.

For each series the platform runs as a user would: upload the CSV, create a session
(the series is both the input and the output; a calendar as a user would pick it),
`TrainAuto` with a time limit (`tsforge train SESSION --preset auto --time-limit`),
wait for the run. The whole preset is timed from the call until the run ends (dataset
build included). Every model's stored test predictions and intervals are then scored on
the test windows (the last 10 %, chronological 70/20/10):

- MAE in original units; relative to the strongest seasonal naive on validation (the
  lowest validation MAE among the day and, with three weeks of data, the week: the
  baseline a user would pick before seeing the test split);
- MASE: MAE divided by that seasonal naive's MAE on the training windows;
- coverage: the share of actual values inside the 80 % and 95 % intervals.

Baselines and peers, computed here on the same windows:

- seasonal naive (a day; a week where the data covers three weeks): the value one
  season before each output step;
- scikit-learn RidgeCV on the input window's values (the lags), direct multi-output,
  fitted on the training windows;
- statsforecast MSTL (seasons of the preset), the library's own rolling origin on every
  k-th test window (it costs about 1-3 s per window): refitted per window on the last
  four weeks, and fitted once on everything before the test period and applied with
  `forward` to the whole history before each window. All methods are also scored on
  those windows ("same windows" rows).
- statsforecast AutoETS (season a day), fitted on everything before the test period,
  `forward` per test window.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

from bench.forecast_series import SeriesData, csv_bytes, sample_load, synthetic_load, synthetic_temperature
from bench.harness import tenant_metadata, training_stack
from services.training.build import load_arrays
from tsforge.common.v1 import common_pb2
from tsforge.forecasting.scaling import MinMaxScalers
from tsforge.forecasting.target_history import TargetHistory, target_history
from tsforge.forecasting.windowing import Feature, FeatureSpec, Series, WindowSpec
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2 as upload_pb

TENANT = "bench-forecast"
PRESET_GOAL_S = 600
_TERMINAL = (tr.RUN_STATE_SUCCEEDED, tr.RUN_STATE_FAILED, tr.RUN_STATE_CANCELLED)


@dataclass(frozen=True)
class Case:
    series: SeriesData
    input_hours: float
    output_hours: float
    calendar: tr.CalendarFeatures
    goal: str  # "seasonal": beat naive by 25 % and MSTL; "smooth": as good as Ridge
    mstl_every: int  # score the MSTL peer on every k-th test window


@dataclass
class Score:
    name: str
    mae: float
    mase: float
    coverage: tuple[float, float] | None = None
    subset_mae: float | None = None
    validation_mae: float | None = None
    preset_model: bool = False


@dataclass
class CaseResult:
    case: Case
    preset_s: float
    strongest: str
    scores: list[Score] = field(default_factory=list)
    best: str = ""
    subset_windows: int = 0
    notes: list[str] = field(default_factory=list)


def cases(quick: bool) -> list[Case]:
    vienna = tr.CalendarFeatures(day=True, week=True, holiday=True, holiday_country="AT", time_zone="Europe/Vienna")
    load = synthetic_load(weeks=8 if quick else 16)
    temperature = synthetic_temperature(weeks=6 if quick else 14)
    return [
        Case(load, 24, 6, vienna, "seasonal", 24 if quick else 12),
        Case(temperature, 48, 24, tr.CalendarFeatures(day=True), "smooth", 12),
        Case(sample_load(), 24, 6, tr.CalendarFeatures(day=True, week=True), "seasonal", 12),
    ]


def run(database_url: str, folder: Path, quick: bool = False) -> list[CaseResult]:
    metadata = tenant_metadata(TENANT)
    results = []
    with training_stack(database_url, folder) as stack:
        for case in cases(quick):
            limit = timedelta(seconds=120 if quick else PRESET_GOAL_S)
            results.append(_run_case(stack, metadata, case, limit))
    return results


def _run_case(stack, metadata, case: Case, limit: timedelta) -> CaseResult:
    series = case.series
    file = _upload(stack.upload, metadata, series)
    step = series.step_minutes
    spec = tr.DatasetSpec(
        inputs=[tr.FeatureSpec(file=file, horizon=common_pb2.HorizonHours(start=-case.input_hours, end=0))],
        outputs=[tr.FeatureSpec(file=file, horizon=common_pb2.HorizonHours(start=0, end=case.output_hours))],
        window=tr.WindowConfig(
            input_steps=round(case.input_hours * 60 / step),
            output_steps=round(case.output_hours * 60 / step),
            step_minutes=step,
        ),
        calendar=case.calendar,
    )
    session = stack.training.CreateSession(
        pb.CreateSessionRequest(session=tr.Session(display_name=f"bench {series.name}", spec=spec)), metadata=metadata
    ).session
    request = pb.TrainAutoRequest(session=session.name, display_name=f"preset {series.name}")
    request.time_limit.FromTimedelta(limit)
    started = time.perf_counter()
    response = stack.training.TrainAuto(request, metadata=metadata)
    run = _wait(stack.training, metadata, response.run.name, limit.total_seconds() * 2 + 600)
    preset_s = time.perf_counter() - started
    dataset = stack.training.GetDataset(pb.GetDatasetRequest(name=run.dataset), metadata=metadata).dataset
    return _score(stack.store, case, dataset, run, preset_s, list(response.plan.notes))


def _score(store, case: Case, dataset: tr.Dataset, run: tr.Run, preset_s: float, notes: list[str]) -> CaseResult:
    objects = {o.id: o.object.key for o in dataset.objects}
    arrays = {split: load_arrays(store, objects[f"arrays-{split}"]) for split in ("train", "validation", "test")}
    scalers = MinMaxScalers.from_dict(json.loads(b"".join(store.read(objects["scalers"]))))
    actual = {s: scalers.inverse_transform_outputs(a["y"].astype(np.float64))[:, :, 0] for s, a in arrays.items()}
    references = {s: a["reference_times"].astype(np.int64) * 10**9 for s, a in arrays.items()}
    series = case.series
    output = dataset.spec.outputs[0]
    window = WindowSpec(dataset.spec.window.input_steps, dataset.spec.window.output_steps, series.step_minutes)
    grid = target_history(
        [Feature(FeatureSpec("y", output.horizon.start, output.horizon.end), Series(series.times, series.values))],
        window,
    )
    seasons = [24.0] + ([168.0] if 168.0 in _seasons(notes) else [])
    naive = {
        f"seasonal naive {s:g} h": {split: _seasonal_naive(grid, references[split], s, window) for split in references}
        for s in seasons
    }
    strongest = min(naive, key=lambda name: _mae(naive[name]["validation"], actual["validation"]))
    scale = _mae(naive[strongest]["train"], actual["train"])
    result = CaseResult(case, preset_s, strongest, notes=notes)
    every = case.mstl_every
    subset = np.arange(0, len(actual["test"]), every)
    result.subset_windows = len(subset)

    def add(name, predicted, coverage=None, validation=None, preset=False):
        result.scores.append(
            Score(
                name,
                _mae(predicted, actual["test"]),
                _mae(predicted, actual["test"]) / scale,
                coverage,
                _mae(predicted[subset], actual["test"][subset]),
                validation,
                preset,
            )
        )

    for name, values in naive.items():
        add(name, values["test"], validation=_mae(values["validation"], actual["validation"]))
    for model in run.models:
        if model.state != tr.MODEL_STATE_SUCCEEDED:
            result.notes.append(
                f"{model.name.rsplit('/', 1)[1]}: {tr.ModelState.Name(model.state)} {model.failure_reason}"
            )
            continue
        stored = load_arrays(
            store, next(p.object.key for p in model.predictions if p.split == common_pb2.DATA_SPLIT_TEST)
        )
        coverage = None
        if "lower" in stored:
            inside = (stored["lower"] <= stored["actual"][:, None]) & (stored["actual"][:, None] <= stored["upper"])
            coverage = tuple(float(v) for v in inside.mean(axis=(0, 2, 3)))
        add(
            f"preset: {model.name.rsplit('/', 1)[1]}",
            stored["predicted"][:, :, 0].astype(np.float64),
            coverage,
            model.validation.mae,
            preset=True,
        )
    scored = [s for s in result.scores if s.preset_model]
    result.best = (
        min(scored, key=lambda s: math.inf if s.validation_mae is None else s.validation_mae).name if scored else ""
    )
    add("peer: scikit-learn RidgeCV on the input window", _ridge(arrays, scalers))
    peers = _statsforecast_peers(grid, references, seasons, window, subset)
    for name, (predicted, partial) in peers.items():
        if partial:  # scored only on the subset
            result.scores.append(Score(name, float("nan"), float("nan"), None, _mae(predicted, actual["test"][subset])))
        else:
            add(name, predicted)
    return result


def _seasons(notes: list[str]) -> list[float]:
    return [float(n.split("a season of ")[1].split(" h")[0]) for n in notes if n.startswith("a season of ")]


def _seasonal_naive(grid: TargetHistory, references: np.ndarray, season_hours: float, window: WindowSpec) -> np.ndarray:
    season = round(season_hours * 3_600 * 10**9)
    steps = np.arange(1, window.output_steps + 1) + grid.lead
    index = (references[:, None] + steps[None, :] * grid.step - season - grid.start) // grid.step
    return grid.values[np.clip(index, 0, len(grid.values) - 1), 0]


def _ridge(arrays: dict, scalers: MinMaxScalers) -> np.ndarray:
    from sklearn.linear_model import RidgeCV

    x = {s: a["x"][:, :, 0].astype(np.float64) for s, a in arrays.items()}
    y = {s: a["y"][:, :, 0].astype(np.float64) for s, a in arrays.items()}
    model = RidgeCV(alphas=np.logspace(-4, 3, 15)).fit(x["train"], y["train"])
    return scalers.inverse_transform_outputs(model.predict(x["test"])[:, :, None])[:, :, 0]


def _statsforecast_peers(grid, references, seasons, window, subset) -> dict:
    try:
        from statsforecast.models import MSTL, AutoETS
    except ImportError:
        return {}
    peers = {}
    step = grid.step
    horizon = window.output_steps + grid.lead
    lengths = [round(s * 3_600 * 10**9 / step) for s in seasons]
    test = references["test"]
    before_test = _clean(grid.until(int(test[0]) - step)[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # MSTL refitted on the last four weeks before every k-th test window.
        four_weeks = round(4 * 168 * 3_600 * 10**9 / step)
        refit = [
            MSTL(season_length=lengths, trend_forecaster=AutoETS(model="ZZN")).forecast(
                y=_clean(grid.window(int(r), four_weeks)[:, 0]), h=horizon
            )["mean"][grid.lead :]
            for r in test[subset]
        ]
        peers["peer: statsforecast MSTL refitted per window on the last 4 weeks"] = (np.array(refit), True)
        # MSTL fitted on everything before the test period, forward on the whole history.
        fitted = MSTL(season_length=lengths, trend_forecaster=AutoETS(model="ZZN")).fit(before_test)
        forward = [
            fitted.forward(y=_clean(grid.until(int(r))[:, 0]), h=horizon)["mean"][grid.lead :] for r in test[subset]
        ]
        peers["peer: statsforecast MSTL fitted before the test period, forward per window"] = (np.array(forward), True)
        day = round(24 * 3_600 * 10**9 / step)
        ets = AutoETS(season_length=day).fit(before_test)
        start = int(test[0]) - (len(before_test) - 1) * step - step
        forecasts = []
        for r in test:
            history = grid.window(int(r), (int(r) - start) // step + 1)[:, 0]
            forecasts.append(ets.forward(y=_clean(history), h=horizon)["mean"][grid.lead :])
        peers["peer: statsforecast AutoETS (a day), fitted before the test period"] = (np.array(forecasts), False)
    return peers


def _clean(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    present = np.isfinite(values)
    if present.all():
        return values
    first = int(np.argmax(present))
    values = values[first:]
    present = present[first:]
    positions = np.arange(len(values))
    values = values.copy()
    values[~present] = np.interp(positions[~present], positions[present], values[present])
    return values


def _mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.nanmean(np.abs(np.asarray(predicted, dtype=np.float64) - actual)))


def _upload(upload_stub, metadata, series: SeriesData) -> str:
    data = csv_bytes(series)

    def messages():
        yield upload_pb.UploadFileRequest(
            metadata=upload_pb.UploadFileMetadata(
                file_name=f"{series.name}.csv", role=common_pb2.FEATURE_ROLE_OUTPUT, display_name=series.name
            )
        )
        for offset in range(0, len(data), 1 << 20):
            yield upload_pb.UploadFileRequest(chunk=data[offset : offset + (1 << 20)])

    return upload_stub.UploadFile(messages(), metadata=metadata).file.name


def _wait(stub, metadata, name: str, timeout: float) -> tr.Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = stub.GetRun(pb.GetRunRequest(name=name), metadata=metadata).run
        if run.state in _TERMINAL:
            return run
        time.sleep(1.0)
    raise TimeoutError(f"{name} did not finish in {timeout:.0f} s")


def table(results: list[CaseResult]) -> str:
    """A markdown table per series, then the goals."""
    lines = []
    for result in results:
        case = result.case
        lines += [
            "",
            f"**{case.series.name}** ({case.series.step_minutes}-minute steps, {case.input_hours:g} h in -> "
            f"{case.output_hours:g} h out; preset run {result.preset_s:.0f} s; strongest seasonal naive on "
            f"validation: {result.strongest}; best on validation: {result.best}; MSTL peers on every "
            f"{case.mstl_every}th test window, {result.subset_windows} windows)",
            "",
            "| method | test MAE | vs strongest naive | MASE | 80 % / 95 % coverage | MAE, MSTL peer windows |",
            "|---|---|---|---|---|---|",
        ]
        reference = next(s.mae for s in result.scores if s.name == result.strongest)
        for score in result.scores:
            relative = f"{score.mae / reference:.2f}" if np.isfinite(score.mae) else "-"
            coverage = f"{score.coverage[0]:.2f} / {score.coverage[1]:.2f}" if score.coverage else "-"
            mae = f"{score.mae:.3f}" if np.isfinite(score.mae) else "-"
            mase = f"{score.mase:.3f}" if np.isfinite(score.mase) else "-"
            name = f"**{score.name}**" if score.name == result.best else score.name
            lines.append(f"| {name} | {mae} | {relative} | {mase} | {coverage} | {score.subset_mae:.3f} |")
    return "\n".join(lines)


def goal_rows(results: list[CaseResult]) -> list[dict]:
    """The issue's goals, each against the seasonal naive that is strongest on the test
    windows themselves (stricter than the one chosen on validation)."""
    rows = []
    for result in results:
        name = result.case.series.name
        by_name = {s.name: s for s in result.scores}
        best = by_name.get(result.best)
        naive = min((s for s in result.scores if s.name.startswith("seasonal naive")), key=lambda s: s.mae)
        if best is None:
            rows.append({"benchmark": f"forecast {name}: preset", "measured": "no model succeeded", "met": "NO"})
            continue
        rows.append(
            {
                "benchmark": f"forecast {name}: preset wall time (build + run)",
                "measured": f"{result.preset_s:.0f} s",
                "goal": f"<= {PRESET_GOAL_S} s",
                "met": "yes" if result.preset_s <= PRESET_GOAL_S else "NO",
            }
        )
        preset = [s for s in result.scores if s.preset_model and not s.name.startswith("preset: seasonal-naive")]
        worse = [s.name.removeprefix("preset: ") for s in preset if s.mae > naive.mae]
        rows.append(
            {
                "benchmark": f"forecast {name}: preset models worse than {naive.name} on test",
                "measured": ", ".join(worse) or "none",
                "goal": "none",
                "met": "yes" if not worse else "NO",
            }
        )
        if result.case.goal == "seasonal":
            rows.append(
                {
                    "benchmark": f"forecast {name}: best on validation ({best.name.removeprefix('preset: ')}) vs "
                    f"{naive.name}, test MAE",
                    "measured": f"{best.mae:.3f}",
                    "baseline": f"{naive.mae:.3f}",
                    "ratio": f"{best.mae / naive.mae:.2f}",
                    "goal": "<= 0.75",
                    "met": "yes" if best.mae <= 0.75 * naive.mae else "NO",
                }
            )
            for peer in (s for s in result.scores if "MSTL" in s.name):
                if best.subset_mae is None or peer.subset_mae is None:
                    continue  # scored on the shared windows only where both have them
                rows.append(
                    {
                        "benchmark": f"forecast {name}: best vs {peer.name.removeprefix('peer: ')}, same windows",
                        "measured": f"{best.subset_mae:.3f}",
                        "baseline": f"{peer.subset_mae:.3f}",
                        "ratio": f"{best.subset_mae / peer.subset_mae:.2f}",
                        "goal": "< 1",
                        "met": "yes" if best.subset_mae < peer.subset_mae else "NO",
                    }
                )
        else:
            ridge = next(s for s in result.scores if "Ridge" in s.name)
            rows.append(
                {
                    "benchmark": f"forecast {name}: best on validation ({best.name.removeprefix('preset: ')}) vs Ridge",
                    "measured": f"{best.mae:.3f}",
                    "baseline": f"{ridge.mae:.3f}",
                    "ratio": f"{best.mae / ridge.mae:.2f}",
                    "goal": "<= 1",
                    "met": "yes" if best.mae <= ridge.mae else "NO",
                }
            )
    return rows
