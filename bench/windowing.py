"""Windowing a 1,000,000-row, 3-input series (96 input steps, 24 output steps, 15-minute
raw data, a sample every 15 minutes) against a per-sample loop and a plain memory copy.

The loop baseline is timed on LOOP_SAMPLES reference times and extrapolated linearly to
all of them (it would take many minutes on the whole series). The copy baseline is
np.copy of the finished X and y: the least any builder of those arrays must spend.
"""

import time
from datetime import timedelta

import numpy as np

from tsforge.forecasting.windowing import (
    Feature,
    FeatureSpec,
    Series,
    WindowSpec,
    build_windows,
    reference_times,
    window_edges,
)

LOOP_SAMPLES = 2_000
WINDOW = WindowSpec(input_steps=96, output_steps=24, step_minutes=15)
TOLERANCE = timedelta(minutes=22, seconds=30)


def run(rows: int = 1_000_000) -> list[dict]:
    """Builds the windows once, times both baselines, returns one dict per comparison."""
    inputs, outputs = _features(rows)
    # Untimed first build: the first touch of fresh memory costs this VM more than all the
    # windowing (seconds for a GB); the timed runs below all see warmed-up memory.
    build_windows(inputs, outputs, WINDOW, TOLERANCE)
    started = time.perf_counter()
    windows = build_windows(inputs, outputs, WINDOW, TOLERANCE)
    build_seconds = time.perf_counter() - started
    samples = len(windows.times) + windows.dropped

    references = reference_times([f.series for f in (*inputs, *outputs)], WINDOW)[:LOOP_SAMPLES]
    started = time.perf_counter()
    loop_X, _ = _per_sample_loop(inputs, outputs, references)
    loop_seconds = (time.perf_counter() - started) * samples / len(references)
    # The loop and the vectorised build agree on the samples they both kept.
    np.testing.assert_allclose(
        loop_X[: len(references) - windows.dropped][-10:],
        windows.X[len(references) - windows.dropped - 10 : len(references) - windows.dropped],
        rtol=1e-6,
    )

    warm_copies = np.copy(windows.X), np.copy(windows.y)
    del warm_copies
    started = time.perf_counter()
    np.copy(windows.X), np.copy(windows.y)
    copy_seconds = time.perf_counter() - started
    size = f"{samples:,} samples, X {windows.X.nbytes / 1e9:.2f} GB"
    return [
        {
            "name": f"build_windows vs per-sample loop ({size}; loop timed on {len(references):,} samples, "
            "extrapolated)",
            "measured": round(build_seconds, 3),
            "baseline": round(loop_seconds, 3),
            "ratio": round(loop_seconds / build_seconds, 1),
            "goal": ">= 50 (times faster)",
        },
        {
            "name": f"build_windows vs np.copy of X and y ({size})",
            "measured": round(build_seconds, 3),
            "baseline": round(copy_seconds, 3),
            "ratio": round(build_seconds / copy_seconds, 1),
            "goal": "report (times slower than a copy)",
        },
    ]


def _features(rows: int) -> tuple[list[Feature], list[Feature]]:
    generator = np.random.default_rng(7)
    times = np.datetime64("2000-06-05T00:30", "ns") + np.arange(rows) * np.timedelta64(15, "m")
    columns = [generator.normal(500, 80, rows), generator.normal(12, 8, rows), generator.normal(60, 25, rows)]
    inputs = [
        Feature(FeatureSpec(name, -24, 0), Series(times, values))
        for name, values in zip(("load", "temperature", "price"), columns)
    ]
    outputs = [Feature(FeatureSpec("load", 0, 6), Series(times, columns[0]))]
    return inputs, outputs


def _per_sample_loop(inputs, outputs, references) -> tuple[np.ndarray, np.ndarray]:
    """What a straightforward implementation does: per reference time, per feature, check
    coverage and gaps on the window's span, then np.interp onto its points."""
    tolerance = TOLERANCE // timedelta(microseconds=1) * 1000
    prepared = [
        (f.series.times.astype(np.int64), f.series.values, window_edges(f.spec, steps)[1:])
        for group, steps in ((inputs, WINDOW.input_steps), (outputs, WINDOW.output_steps))
        for f in group
    ]
    X, y = [], []
    for reference in references:
        sample = []
        for times, values, points in prepared:
            at = reference + points
            if at[0] < times[0] or at[-1] > times[-1]:
                break
            lo, hi = np.searchsorted(times, at[0], "right") - 1, np.searchsorted(times, at[-1], "left")
            if np.diff(times[lo : hi + 1]).max(initial=0) > tolerance:
                break
            sample.append(np.interp(at, times[lo : hi + 1], values[lo : hi + 1]))
        else:
            X.append(np.stack(sample[: len(inputs)], axis=-1))
            y.append(np.stack(sample[len(inputs) :], axis=-1))
    return np.array(X, dtype=np.float32), np.array(y, dtype=np.float32)


if __name__ == "__main__":
    for result in run():
        print(result)
