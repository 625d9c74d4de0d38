"""predict.py of a tsforge model bundle: forecasts from a history CSV with numpy and the
model's own library (Keras, scikit-learn or LightGBM) alone, no tsforge.

    python predict.py HISTORY.csv FORECAST.csv [--reference-times TIMES.csv]

The bundle's README.md defines the CSV layouts and every computation; this program
follows manifest.json's "layout" and "scalers" exactly as the platform's Predict does:
the series resampled onto each window's points (linear, mean or nearest, with the same
coverage rule), the calendar and holiday columns, the lag windows, min-max scaling,
the model, unscaling and the prediction intervals.

Exit codes: 0 written; 2 bad input (a CSV, a series that does not cover a window);
3 a model this program cannot run (statistical models need the platform's Predict).

The registry ships this file unchanged in every bundle (services/models/bundle.py);
it must import nothing but the standard library, numpy and the model's library.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

HERE = Path(__file__).resolve().parent
DAY_NS = 86_400 * 10**9
CYCLES = ("year", "month", "week", "day")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNSUPPORTED = 3


class InputError(Exception):
    """The history or reference times cannot serve this model (exit code 2)."""


# -- times ----------------------------------------------------------------------------


def parse_time(text: str) -> int:
    """ISO 8601 → int64 ns since the epoch; without an offset the time is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def format_time(ns: int) -> str:
    seconds, rest = divmod(int(ns), 10**9)
    text = (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{rest:09d}".rstrip("0") if rest else "") + "Z"


# -- reading --------------------------------------------------------------------------


def read_history(path: str, names: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{series: (times int64 ns, values float64)}, each sorted, empty and non-finite cells left out."""
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header or header[0].strip() != "timestamp":
            raise InputError(f"{path}: the first column must be 'timestamp'")
        columns = {name.strip(): i for i, name in enumerate(header)}
        missing = [name for name in names if name not in columns]
        if missing:
            raise InputError(f"{path}: no column for series {', '.join(map(repr, missing))} (needs {names})")
        points: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            instant = parse_time(row[0])
            for name in names:
                cell = row[columns[name]].strip() if columns[name] < len(row) else ""
                if not cell:
                    continue
                try:
                    value = float(cell)
                except ValueError:
                    raise InputError(f"{path} line {line}: {name!r} is not a number: {cell!r}") from None
                if np.isfinite(value):
                    points[name].append((instant, value))
    history = {}
    for name, pairs in points.items():
        if not pairs:
            raise InputError(f"{path}: series {name!r} has no values")
        pairs.sort()
        times = np.array([t for t, _ in pairs], dtype=np.int64)
        if (np.diff(times) == 0).any():
            raise InputError(f"{path}: series {name!r} has two values at one time")
        history[name] = (times, np.array([v for _, v in pairs], dtype=np.float64))
    return history


def read_reference_times(path: str) -> np.ndarray:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "reference_time" not in rows[0]:
        raise InputError(f"{path}: needs a 'reference_time' column and at least one row")
    return np.array([parse_time(row["reference_time"]) for row in rows], dtype=np.int64)


# -- resampling: windows of one series -------------------------------------------------


class Resampler:
    """One series on one window (edges_ns: the horizon start, then the N points)."""

    def __init__(self, name, times, values, method, edges_ns, gap_tolerance_ns):
        self.name, self.times, self.values, self.method = name, times, values, method
        self.edges = np.asarray(edges_ns, dtype=np.int64)
        tolerance = gap_tolerance_ns
        if tolerance is None:  # 1.5 median spacings of the series
            tolerance = int(1.5 * np.median(np.diff(times))) if len(times) > 1 else 0
        gap = np.diff(times) > tolerance
        self.gap_starts, self.gap_ends = times[:-1][gap], times[1:][gap]
        if method == "mean":
            self.centre = float(values.mean())
            self.cumulative = np.concatenate(([0.0], np.cumsum(values - self.centre)))

    def check(self, references: np.ndarray) -> None:
        """Raises InputError for the first reference time (in time order) whose window
        the series does not cover."""
        first = self.edges[0] if self.method == "mean" else self.edges[1]
        start, end = references + first, references + self.edges[-1]
        covered = (start >= self.times[0]) & (end <= self.times[-1])
        touching = np.searchsorted(self.gap_starts, end, "left") - np.searchsorted(self.gap_ends, start, "right")
        covered &= touching == 0
        if self.method == "mean":
            counts = np.searchsorted(self.times, references[:, None] + self.edges[None, :], side="right")
            covered &= (np.diff(counts, axis=1) > 0).all(axis=1)
        if not covered.all():
            bad = np.flatnonzero(~covered)
            r = int(bad[np.argmin(references[bad])])
            raise InputError(
                f"series {self.name!r} lacks data from {format_time(start[r])} to {format_time(end[r])}, "
                f"needed for reference time {format_time(references[r])}"
            )

    def windows(self, references: np.ndarray) -> np.ndarray:
        """(n, N) float64: the values at each reference time's window points."""
        self.check(references)
        if self.method == "mean":
            positions = np.searchsorted(self.times, references[:, None] + self.edges[None, :], side="right")
            starts, ends = positions[:, :-1], positions[:, 1:]
            return (self.cumulative[ends] - self.cumulative[starts]) / (ends - starts) + self.centre
        instants = references[:, None] + self.edges[None, 1:]
        times, values = self.times, self.values
        if self.method == "nearest":
            after = np.searchsorted(times, instants, side="left")
            before, after = np.clip(after - 1, 0, len(times) - 1), np.clip(after, 0, len(times) - 1)
            take_after = (times[after] - instants) < (instants - times[before])  # ties: the earlier point
            return values[np.where(take_after, after, before)]
        if len(times) == 1:
            return np.full(instants.shape, values[0])
        left = np.clip(np.searchsorted(times, instants, side="right") - 1, 0, len(times) - 2)
        fraction = (instants - times[left]) / (times[left + 1] - times[left])
        return values[left] + fraction * (values[left + 1] - values[left])


# -- calendar ---------------------------------------------------------------------------


def calendar_columns(calendar: dict, instants: np.ndarray) -> np.ndarray:
    """instants.shape + (columns,) float64: sin/cos of the cycles, then the holiday flag."""
    local = instants.ravel()
    if calendar["time_zone"] != "UTC":
        zone = ZoneInfo(calendar["time_zone"])
        seconds, where = np.unique(local // 10**9, return_inverse=True)
        offsets = [(EPOCH + timedelta(seconds=int(s))).astimezone(zone).utcoffset() or timedelta(0) for s in seconds]
        local = local + np.array([o // timedelta(microseconds=1) * 1000 for o in offsets], dtype=np.int64)[where]
    days = local // DAY_NS
    within_day = (local - days * DAY_NS) / DAY_NS
    columns = []
    for cycle in CYCLES:
        if cycle in calendar["cycles"]:
            angle = 2 * np.pi * position(cycle, days, within_day)
            columns += [np.sin(angle), np.cos(angle)]
    if calendar["holiday"]:
        columns.append(holiday_flags(calendar, days))
    encoded = np.stack(columns, axis=-1) if columns else np.empty((local.size, 0))
    return encoded.reshape(*instants.shape, len(columns))


def position(cycle: str, days: np.ndarray, within_day: np.ndarray) -> np.ndarray:
    if cycle == "day":
        return within_day
    if cycle == "week":
        return ((days + 3) % 7 + within_day) / 7  # 1970-01-01 was a Thursday
    period = days.view("datetime64[D]").astype("datetime64[M]" if cycle == "month" else "datetime64[Y]")
    start = period.astype("datetime64[D]").astype(np.int64)
    length = (period + 1).astype("datetime64[D]").astype(np.int64) - start
    return (days - start + within_day) / length


def holiday_flags(calendar: dict, days: np.ndarray) -> np.ndarray:
    """1.0 on the listed holidays of every year from 1970 (or earlier) to the last one asked for."""
    by_year = calendar["holiday_dates"]
    years = days.view("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    first, last = min(1970, int(years.min())), max(1970, int(years.max()))
    if str(first) not in by_year or str(last) not in by_year:
        known = sorted(map(int, by_year))
        raise InputError(f"the bundle lists holidays for {known[0]}..{known[-1]} only, not {first}..{last}")
    dates = [d for year in range(first, last + 1) for d in by_year[str(year)]]
    return np.isin(days, np.array(dates, dtype="datetime64[D]").astype(np.int64)).astype(np.float64)


# -- the model's inputs -------------------------------------------------------------------


def scaler(s: dict) -> tuple[float, float]:
    """(multiplier, anchor): scaled = (x − data_min) · multiplier + anchor."""
    span = s["data_max"] - s["data_min"]
    multiplier = (s["range_max"] - s["range_min"]) / (span if span > 0 else 1.0)
    return multiplier, s["range_min"] if s["data_max"] > s["data_min"] else (s["range_min"] + s["range_max"]) / 2


def scale(array: np.ndarray, scalers: list[dict]) -> None:
    for j, s in enumerate(scalers):  # in place, float32 as the platform does
        multiplier, anchor = scaler(s)
        column = array[..., j]
        column -= s["data_min"]
        column *= multiplier
        column += anchor


def unscale(array: np.ndarray, scalers: list[dict]) -> None:
    for j, s in enumerate(scalers):
        multiplier, anchor = scaler(s)
        column = array[..., j]
        column -= anchor
        column /= multiplier
        column += s["data_min"]


def window(features, history, layout, references, calendar, points_ns, steps) -> np.ndarray:
    """(n, steps, features + calendar columns) float32, unscaled."""
    width = len(features) + len(calendar["columns"])
    out = np.empty((len(references), steps, width), dtype=np.float32)
    for j, f in enumerate(features):
        times, values = history[f["source"]]
        resampler = Resampler(f["feature"], times, values, f["method"], f["edges_ns"], layout["gap_tolerance_ns"])
        out[:, :, j] = resampler.windows(references)
    if calendar["columns"] and len(references):
        out[:, :, len(features) :] = calendar_columns(calendar, references[:, None] + np.array(points_ns)[None, :])
    return out


def latest_reference(layout: dict, history: dict) -> int:
    """The latest grid instant whose input and lag windows end within every series."""
    ends = [int(history[f["source"]][0][-1]) - f["edges_ns"][-1] for f in layout["inputs"] + layout["lags"]]
    latest, step, offset = min(ends), layout["step_ns"], layout["offset_ns"]
    return latest - (latest - offset) % step


# -- the models ----------------------------------------------------------------------------


def predict_scaled(model: dict, x: np.ndarray, future: np.ndarray) -> np.ndarray:
    """(n, output_steps, outputs) float32, scaled, as the platform's estimator gives it."""
    loader: str = model["loader"]
    steps, outputs = (int(n) for n in model["output_shape"])
    if loader == "keras":
        import keras

        network = keras.saving.load_model(HERE / model["file"], compile=False)
        inputs = [x, future] if len(network.inputs) > 1 else x
        return np.asarray(network.predict(inputs, batch_size=1024, verbose=0), dtype=np.float32)
    if loader.startswith("sklearn-"):
        import joblib

        estimator = joblib.load(HERE / model["file"])
        parts = [x.reshape(len(x), -1)] + ([future.reshape(len(x), -1)] if model.get("n_future") else [])
        rows = np.concatenate(parts, axis=1).astype(np.float64)
        if loader == "sklearn-flattened":
            return np.asarray(estimator.predict(rows), dtype=np.float32).reshape(len(x), steps, outputs)
        rows = np.column_stack([np.repeat(rows, steps, axis=0), np.tile(np.arange(steps, dtype=rows.dtype), len(x))])
        return np.stack([e.predict(rows).reshape(len(x), steps) for e in estimator], axis=2).astype(np.float32)
    if loader == "lightgbm":
        import lightgbm

        boosters = [lightgbm.Booster(model_file=str(HERE / f)) for f in model["files"]]
        result = np.zeros((len(x), steps, outputs), dtype=np.float32)
        if model["strategy"] == "direct":  # booster k * outputs + j: feature j at step k
            for k in range(steps):
                step_rows = booster_rows(x, future, k, False, model["n_calendar"])
                for j in range(outputs):
                    result[:, k, j] = boosters[k * outputs + j].predict(step_rows)
        else:  # booster j: feature j at every step, rows sample-major
            per_step = [booster_rows(x, future, k, True, model["n_calendar"]) for k in range(steps)]
            all_rows = np.stack(per_step, axis=1).reshape(len(x) * steps, -1)
            for j in range(outputs):
                result[:, :, j] = np.asarray(boosters[j].predict(all_rows)).reshape(len(x), steps)
        return result
    if loader == "ensemble":  # the members' scaled forecasts, weighted per output feature
        forecasts = [predict_scaled({**m, "output_shape": model["output_shape"]}, x, future) for m in model["members"]]
        weights = np.array([m["weights"] for m in model["members"]], dtype=np.float64)
        return np.einsum("mnkj,mj->nkj", np.stack(forecasts).astype(np.float64), weights).astype(np.float32)
    raise AssertionError(f"unknown loader {loader!r}")


def booster_rows(x, future, step, with_step, n_calendar):
    """X's feature columns flattened, X's calendar at the last input step, F's row `step`
    (and the step index)."""
    x = np.asarray(x, dtype=np.float64)
    features = x.shape[2] - n_calendar
    parts = [x[:, :, :features].reshape(len(x), -1), x[:, -1, features:]]
    if future.shape[2]:
        parts.append(np.asarray(future[:, step, :], dtype=np.float64))
    if with_step:
        parts.append(np.full((len(x), 1), float(step)))
    return np.concatenate(parts, axis=1)


# -- the program ---------------------------------------------------------------------------


def forecast(manifest: dict, history_csv: str, references: np.ndarray | None) -> list[list[object]]:
    """The forecast CSV's rows (header first)."""
    layout, scalers = manifest["layout"], manifest["scalers"]
    history = read_history(history_csv, manifest["required_series"])
    if references is None:
        references = np.array([latest_reference(layout, history)], dtype=np.int64)
    steps = manifest["window"]["output_steps"]
    x = window(layout["inputs"], history, layout, references, layout["calendar"], layout["calendar"]["points_ns"],
               manifest["window"]["input_steps"])  # fmt: skip
    scale(x, scalers["inputs"])
    future = window(layout["lags"], history, layout, references, layout["future_calendar"],
                    layout["future_calendar"]["points_ns"], steps)  # fmt: skip
    scale(future, scalers.get("lags", []))
    y = predict_scaled(manifest["model"], x, future)
    unscale(y, scalers["outputs"])
    levels = manifest["intervals"]["levels"]
    widths = np.asarray(manifest["intervals"]["half_widths"], dtype=np.float64).reshape(len(levels), steps, -1)
    rows: list[list[object]] = [["reference_time", "feature", "step", "time", "value"]]
    rows[0] += [f"{side}_{level:g}" for level in levels for side in ("lower", "upper")]
    for i, reference in enumerate(references):
        for j, output in enumerate(layout["outputs"]):
            for k in range(steps):
                value = float(y[i, k, j])
                bounds = [repr(float(v)) for w in widths[:, k, j] for v in (value - w, value + w)]
                time = format_time(reference + output["edges_ns"][k + 1])
                rows.append([format_time(reference), output["feature"], k + 1, time, repr(value), *bounds])
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("history", help="CSV: timestamp, then one column per series (README.md)")
    parser.add_argument("forecast", help="CSV to write: one row per reference time, output feature and step")
    parser.add_argument("--reference-times", help="CSV with a reference_time column (default: the latest possible)")
    args = parser.parse_args(argv)
    manifest = json.loads((HERE / "manifest.json").read_text())
    if not manifest["layout"]["supported"]:
        print(f"predict.py cannot run this model: {manifest['layout']['unsupported_reason']}", file=sys.stderr)
        return UNSUPPORTED
    try:
        references = read_reference_times(args.reference_times) if args.reference_times else None
        rows = forecast(manifest, args.history, references)
    except (InputError, OSError) as error:
        print(f"predict.py: {error}", file=sys.stderr)
        return 2
    with open(args.forecast, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
