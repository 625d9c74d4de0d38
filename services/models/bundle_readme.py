"""The bundle's README.md, written from the version's own manifest: every feature in
its column, the instant of every window point relative to the reference time, the
calendar and holiday columns, the lags, the resampling and coverage rule, the scaling
with its stored parameters, the model's call, the outputs, and the CSV layouts of the
bundle's predict.py (services/models/bundle_predict.py)."""

from __future__ import annotations

_NS_PER_HOUR = 3_600 * 10**9
_CYCLE_TEXT = {
    "day": "(local time since local midnight) / 24 h",
    "week": "(whole days since the last local Monday + day position) / 7",
    "month": "(day of month − 1 + day position) / (days in that month)",
    "year": "(day of year − 1 + day position) / (days in that year: 365 or 366)",
}
_METHOD_TEXT = {
    "linear": "linear interpolation between the raw points around each point",
    "nearest": "the nearest raw point (a tie goes to the earlier one)",
    "mean": "the mean of the raw points in (previous point, point], the first interval starting at the horizon start",
}
_LIBRARY = {
    "keras": "Keras 3",
    "sklearn-flattened": "scikit-learn (joblib)",
    "sklearn-step-indexed": "scikit-learn (joblib)",
    "lightgbm": "LightGBM",
    "ensemble": "the members' libraries",
    "statsforecast": "statsforecast",
}


def readme(registered_model: str, lineage, manifest: dict, files) -> str:
    """README.md of a bundle whose manifest.json is `manifest` (bundle.manifest)."""
    layout, window, model = manifest["layout"], manifest["window"], manifest["model"]
    code, loader_text = _LOAD_CODE[files.loader]
    step_text = _hours(layout["step_ns"])
    offset_minutes = window["offset_minutes"]
    parts = [
        f"# {registered_model}\n",
        f"A forecasting model registered in tsforge from `{manifest['source_model']}` ({model['type']}):",
        f"{loader_text}.\n",
        "## Files\n",
        f"- `{model['file']}`"
        + (f" and {len(files.files) - 1} more files (`manifest.model`)" if len(files.files) > 1 else "")
        + f": the model ({_LIBRARY[files.loader]})",
        "- `predict.py`: forecasts from a history CSV (below) with Python 3.11+, numpy and the model's library;"
        " it imports nothing from tsforge",
        "- `manifest.json`: window, features, lags, calendar settings, scalers, intervals, lineage; its `layout`"
        " holds every window point below as int64 nanoseconds from the reference time",
        "- `scalers.json`: the min-max scalers fitted on the training split\n",
        _predict_section(layout, manifest),
        "## Reference times\n",
        "Every time is a UTC instant. A forecast is made at a reference time r: the inputs are known up to r, the"
        " outputs lie after it. The training dataset's reference times are the instants whose minutes since"
        f" 1970-01-01T00:00Z are {offset_minutes} modulo {window['step_minutes']} (every {step_text}"
        + (f", {offset_minutes} min past" if offset_minutes else "")
        + "); Predict and predict.py accept any instant, and without one take the latest grid instant whose"
        " windows the series cover.\n",
        _x_section(layout, window, manifest),
        _future_section(layout, window, manifest),
        _resampling_section(layout),
        _scaling_section(manifest["scalers"]),
        "## The model\n",
        "With X and F scaled (F only when it has columns):\n",
        "```python",
        "import json, numpy as np",
        'm = json.load(open("manifest.json"))',
        code.replace("{file}", model["file"]),
        "```\n",
        _output_section(layout, window, manifest),
    ]
    return "\n".join(parts) + "\n"


def _hours(ns: int) -> str:
    hours = ns / _NS_PER_HOUR
    if ns and abs(hours) < 1:
        return f"{ns / 6e10:g} min"
    return f"{hours:g} h"


def _at(ns: int) -> str:
    """r ± an offset, e.g. "r − 5 h", "r", "r + 30 min"."""
    if ns == 0:
        return "r"
    return f"r {'−' if ns < 0 else '+'} {_hours(abs(ns))}"


def _points(edges: list[int]) -> str:
    """Where a window's points lie, exactly."""
    steps = len(edges) - 1
    widths = {b - a for a, b in zip(edges, edges[1:])}
    listed = (
        ", ".join(_at(e) for e in edges[1:]) if steps <= 4 else f"{_at(edges[1])}, {_at(edges[2])}, …, {_at(edges[-1])}"
    )
    if len(widths) == 1:
        width = widths.pop()
        end = edges[-1]
        rule = (
            f"point k (k = 1..{steps}) at {_at(end)} − ({steps} − k)·{_hours(width)}"
            if end
            else (f"point k (k = 1..{steps}) at r − ({steps} − k)·{_hours(width)}")
        )
        return f"{rule}: {listed}"
    return f"point k at r + edges_ns[k] (manifest layout; not evenly spaced to the nanosecond): {listed}"


def _predict_section(layout: dict, manifest: dict) -> str:
    if not layout["supported"]:
        return "\n".join([
            "## predict.py: not for this model\n",
            f"This model needs the platform's Predict: {layout['unsupported_reason']}. `python predict.py` says so"
            " and exits with code 3. The sections below still define its inputs exactly.\n",
            "### Statistical models\n",
            "MSTL, AutoETS, AutoARIMA and SeasonalNaive forecast each output feature from its own scaled history"
            " on the output step grid, with statsforecast's fitted objects (`model.joblib`, which needs"
            " statsforecast to unpickle). Reproducing statsforecast's filters with numpy alone would be a second"
            " implementation of them; Predict runs the real one.\n",
        ])  # fmt: skip
    series = manifest["required_series"]
    outputs = [o["feature"] for o in layout["outputs"]]
    levels = manifest["intervals"]["levels"]
    bounds = "".join(f",lower_{level:g},upper_{level:g}" for level in levels)
    uses: dict[str, list[str]] = {}
    for f in layout["inputs"]:
        uses.setdefault(f["source"], []).append(f"input `{f['feature']}`")
    for f in layout["lags"]:
        uses.setdefault(f["source"], []).append(f"lag `{f['feature']}`")
    return "\n".join([
        "## predict.py\n",
        "```",
        "python -I predict.py history.csv forecast.csv [--reference-times times.csv]",
        "```\n",
        "It recomputes the resampling, calendar columns, lags and scaling below exactly as the platform's Predict"
        " does, runs the model and writes the forecast. Exit codes: 0 written, 2 bad input (a CSV, or a series"
        " that does not cover a window: the message names the series, the range and the reference time),"
        " 3 a model it cannot run.\n",
        f"**history.csv**: a header `timestamp,{','.join(series)}`, then one row per instant. `timestamp` is"
        " ISO 8601 (`2024-01-05T13:00:00Z`, or with an offset; without one it is UTC). A cell holds that series'"
        " raw value at that instant; an empty (or non-numeric NaN/inf) cell means the series has no value there."
        " Rows may come in any order; other columns are ignored. Each series:\n",
        *[f"- `{name}`: {', '.join(uses.get(name, ['history']))}" for name in series],
        "",
        "Give the raw series, not windows: the history must hold enough points around every window (see"
        " Coverage). The default gap tolerance and a mean's centring depend on the points given, so give the same"
        " stretch of data Predict would read to get the same numbers to the last bit.\n",
        "**times.csv** (optional): a header `reference_time`, then one ISO 8601 instant a row. Without it,"
        " the latest reference time the history allows.\n",
        f"**forecast.csv** (written): `reference_time,feature,step,time,value{bounds}`, one row per reference"
        f" time, output feature ({', '.join(outputs)}) and step 1..{manifest['window']['output_steps']}; `time` is"
        " the instant the value is for; `value` in original units; the bounds are the central prediction"
        " intervals at each level.\n",
    ])  # fmt: skip


def _calendar_lines(calendar: dict, where: str) -> list[str]:
    lines = []
    zone = calendar["time_zone"]
    for cycle in calendar["cycles"]:
        lines.append(
            f"- `calendar.{cycle}_sin`, `calendar.{cycle}_cos`: sin(2π·x), cos(2π·x) of x = {_CYCLE_TEXT[cycle]}"
        )
    if calendar["cycles"]:
        lines.append(
            f"  All on the wall clock of `{zone}` (IANA tz database"
            + (
                "; UTC itself: no conversion"
                if zone == "UTC"
                else ", daylight saving included: a 23 or 25 h day is one cycle"
            )
            + f"), at {where}. Day position = (local time − local midnight) / 24 h; the week starts Monday"
            " 00:00 local; x lies in [0, 1). Not scaled."
        )
    if calendar["holiday"]:
        subdivision = f", subdivision {calendar['holiday_subdivision']}" if calendar["holiday_subdivision"] else ""
        years = sorted(map(int, calendar["holiday_dates"]))
        lines.append(
            f"- `calendar.holiday`: 1.0 when the local date (in `{zone}`) of the point is a public holiday of"
            f" {calendar['holiday_country']}{subdivision} as the Python `holidays` package lists it, else 0.0. The"
            f" manifest (`layout.{'calendar' if 'first input' in where else 'future_calendar'}.holiday_dates`) lists"
            f" them for {years[0]}..{years[-1]}, by the year they were asked for. Not scaled."
        )
    return lines


def _x_section(layout: dict, window: dict, manifest: dict) -> str:
    names = manifest["input_feature_names"]
    lines = [
        f"## Input window X: shape (n, {window['input_steps']}, {len(names)})\n",
        "Row k − 1 of X is point k of the window; its columns, in this order:\n",
    ]
    for j, f in enumerate(layout["inputs"]):
        lines.append(f"{j}. `{f['feature']}`: series `{f['source']}`, {f['method']}; {_points(f['edges_ns'])}")
    for j, name in enumerate(layout["calendar"]["columns"], start=len(layout["inputs"])):
        lines.append(f"{j}. `{name}`")
    lines.append("")
    first = layout["inputs"][0]
    lines += _calendar_lines(layout["calendar"], f"the points of the first input (`{first['feature']}`)")
    return "\n".join(lines) + "\n"


def _future_section(layout: dict, window: dict, manifest: dict) -> str:
    names = manifest["future_feature_names"]
    steps = window["output_steps"]
    if not names:
        return f"## Future window F: shape (n, {steps}, 0)\n\nThis model reads no lags and no future calendar.\n"
    lines = [
        f"## Future window F: shape (n, {steps}, {len(names)})\n",
        "What is known at r about the output steps; row k − 1 is output step k. Columns, in this order:\n",
    ]
    for j, f in enumerate(layout["lags"]):
        lines.append(
            f"{j}. `{f['feature']}` (a lag): series `{f['source']}`, {f['method']}, the first output's step times"
            f" moved back by the lag; {_points(f['edges_ns'])}"
        )
    future = layout["future_calendar"]
    for j, name in enumerate(names[len(layout["lags"]) :], start=len(layout["lags"])):
        lines.append(f"{j}. `{name}`")
    lines.append("")
    first = layout["outputs"][0]
    lines += [
        line.replace("`calendar.", "`future.calendar.")
        for line in _calendar_lines(future, f"the step times of the first output (`{first['feature']}`)")
    ]
    return "\n".join(lines) + "\n"


def _resampling_section(layout: dict) -> str:
    gap = layout["gap_tolerance_ns"]
    tolerance = (
        f"{_hours(gap)} (the dataset's)"
        if gap is not None
        else "1.5 × the median spacing of the series' own points (as given)"
    )
    methods = sorted({f["method"] for f in layout["inputs"] + layout["lags"]})
    return "\n".join([
        "## Resampling and coverage\n",
        *[f"- {method}: {_METHOD_TEXT[method]}" for method in methods],
        "",
        "A window is covered when its span, [first point, last point] (mean: (horizon start, last point]), lies"
        " within the series' first and last raw time, no gap touches it — a gap is the stretch between two"
        f" consecutive raw points more than {tolerance} apart — and, for mean, every interval holds a raw point."
        " An uncovered window is an error, never filled.\n",
    ])  # fmt: skip


def _scaling_section(scalers: dict) -> str:
    lines = [
        "## Scaling\n",
        "Each input feature column of X, each lag column of F and each output is min-max scaled with the training"
        " split's statistics, in float32:\n",
        "    scaled = (x − data_min) · m + a      x = (scaled − a) / m + data_min",
        "    m = (range_max − range_min) / (data_max − data_min)   (a span of 1 when data_max = data_min)",
        "    a = range_min   (the midpoint (range_min + range_max) / 2 when data_max = data_min)\n",
        "Calendar columns are not scaled. The stored parameters (`scalers.json`, `manifest.scalers`):\n",
        "| role | feature | data_min | data_max | range_min | range_max | m | a |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for role in ("inputs", "lags", "outputs"):
        for s in scalers.get(role, ()):
            span = s["data_max"] - s["data_min"]
            m = (s["range_max"] - s["range_min"]) / (span if span > 0 else 1.0)
            a = s["range_min"] if span > 0 else (s["range_min"] + s["range_max"]) / 2
            lines.append(
                f"| {role[:-1]} | `{s['feature']}` | {s['data_min']!r} | {s['data_max']!r} | {s['range_min']!r}"
                f" | {s['range_max']!r} | {m!r} | {a!r} |"
            )
    return "\n".join(lines) + "\n"


def _output_section(layout: dict, window: dict, manifest: dict) -> str:
    steps = window["output_steps"]
    lines = [
        f"## Outputs: y of shape (n, {steps}, {len(layout['outputs'])}), scaled; unscale each column as above\n",
    ]
    for j, f in enumerate(layout["outputs"]):
        lines.append(f"{j}. `{f['feature']}`: {_points(f['edges_ns']).replace('point k', 'step k')}")
    levels = manifest["intervals"]["levels"]
    lines.append("")
    if levels:
        lines.append(
            f"Prediction intervals at the levels {', '.join(f'{v:g}' for v in levels)} (split conformal on the"
            " validation split): y ± `manifest.intervals.half_widths[level][step][feature]`, original units."
        )
    else:
        lines.append("This model has no prediction intervals.")
    return "\n".join(lines) + "\n"


_LOAD_CODE = {
    "keras": (
        'import keras\nmodel = keras.saving.load_model("{file}", compile=False)\n'
        "inputs = [X.astype(np.float32), F.astype(np.float32)] if F.shape[2] else X.astype(np.float32)\n"
        "y = np.asarray(model.predict(inputs, verbose=0))",
        "Keras 3, `.keras`; with a future window its inputs are [X, F]",
    ),
    "sklearn-flattened": (
        'import joblib\nestimator = joblib.load("{file}")\n'
        "rows = np.hstack([X.reshape(len(X), -1), F.reshape(len(F), -1)]).astype(np.float64)\n"
        'y = estimator.predict(rows).reshape(len(X), *m["model"]["output_shape"])',
        "a scikit-learn estimator on the windows X then F, each flattened row-major",
    ),
    "sklearn-step-indexed": (
        'import joblib\nestimators = joblib.load("{file}")  # one scikit-learn SVR per output feature\n'
        "steps = F.shape[1]\n"
        "flat = np.hstack([X.reshape(len(X), -1), F.reshape(len(F), -1)]).astype(np.float64)\n"
        "rows = np.column_stack([np.repeat(flat, steps, axis=0), np.tile(np.arange(steps, dtype=float), len(X))])\n"
        "y = np.stack([e.predict(rows).reshape(len(X), steps) for e in estimators], axis=2)",
        "scikit-learn SVRs, one per output feature, on the flattened windows with the step index appended",
    ),
    "lightgbm": (
        "import lightgbm\n"
        'boosters = [lightgbm.Booster(model_file=f) for f in m["model"]["files"]]\n'
        'steps, outputs = m["model"]["output_shape"]\n'
        'c = m["model"]["n_calendar"]  # X\'s calendar columns, read at the last input step only\n'
        "def rows(k, with_step):  # X's feature columns flattened, its calendar at the last step, F's row k\n"
        "    parts = [X[:, :, : X.shape[2] - c].reshape(len(X), -1), X[:, -1, X.shape[2] - c :], F[:, k, :]]\n"
        "    parts += [np.full((len(X), 1), k)] if with_step else []\n"
        "    return np.hstack(parts).astype(np.float64)\n"
        "y = np.zeros((len(X), steps, outputs))\n"
        'if m["model"]["strategy"] == "direct":  # booster k * outputs + j: feature j at step k\n'
        "    for k in range(steps):\n"
        "        for j in range(outputs):\n"
        "            y[:, k, j] = boosters[k * outputs + j].predict(rows(k, False))\n"
        "else:  # booster j: feature j at every step, rows sample-major\n"
        "    r = np.stack([rows(k, True) for k in range(steps)], axis=1).reshape(len(X) * steps, -1)\n"
        "    for j in range(outputs):\n"
        "        y[:, :, j] = boosters[j].predict(r).reshape(len(X), steps)",
        "LightGBM text models, one per output feature and step (direct) or per output feature",
    ),
    "statsforecast": (
        "import joblib  # needs statsforecast installed (its model objects)\n"
        'model = joblib.load("{file}")\n'
        "# For each reference time r and output feature j: h = the output feature's scaled\n"
        "# values on its step grid up to r (model['history_steps'] of them; for AutoETS\n"
        "# starting a whole number of seasons after model['fit_starts_ns'][j]); for MSTL\n"
        "# subtract the seasonal cycles (model['seasonal_cycles'][j], each one period\n"
        "# ending at model['fit_end_ns'] and repeating), then\n"
        "# f = model['models'][j].forward(y=h, h=model['lead'] + steps)['mean'][model['lead']:]\n"
        "# (and add the cycles back at the forecast times).\n"
        "y = ...",
        "statsforecast models fitted on the output series, one per output feature (joblib)",
    ),
    "ensemble": (
        "# Each member in m['model']['members'] is used as its own loader says (files under\n"
        "# members/ID/); y is the sum over members of weights[j] * member's scaled y[..., j].\n"
        "y = ...",
        "an ensemble: its members' files and weights",
    ),
}
