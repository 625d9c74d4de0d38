"""Past values of the output features at and before each sample's reference time, for
naive baselines: resampled from the raw files with the dataset's own windowing code."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np

from tsforge.forecasting.windowing import Feature, WindowSpec, build_windows
from tsforge.training.v1 import training_resources_pb2 as tr

_NS_PER_SECOND = 10**9


def output_history(
    outputs: list[Feature], dataset: tr.Dataset, reference_seconds: np.ndarray, history_steps: int
) -> np.ndarray:
    """(n, history_steps, n_outputs) float64, newest first: h = 0 is the value at the
    reference time, h = k the value k of the feature's step widths earlier (its horizon
    divided by output_steps). NaN where the file has no data that early (or a gap).

    `outputs` are the dataset's output features with their raw series, in order.
    """
    window = dataset.spec.window
    gap = dataset.gap_tolerance.ToTimedelta() if dataset.HasField("gap_tolerance") else None
    result = np.full((len(reference_seconds), history_steps, len(outputs)), np.nan)
    wanted = reference_seconds.astype(np.int64) * _NS_PER_SECOND
    grid = WindowSpec(1, 1, window.step_minutes, window.offset_minutes)
    for column, feature in enumerate(outputs):
        width = (feature.spec.end_hours - feature.spec.start_hours) / window.output_steps
        # One single-point window per h, so each past value is present or NaN on its own
        # (one long window would drop a whole row for one missing value). O(history_steps × n).
        for h in range(history_steps):
            point = replace(feature.spec, start_hours=-(h + 1) * width, end_hours=-h * width)
            try:
                windows = build_windows(
                    [Feature(point, feature.series)],
                    [Feature(point, feature.series)],
                    grid,
                    gap_tolerance=gap if gap is None or gap > timedelta(0) else None,
                )
            except ValueError:
                continue  # no reference time has data this early: NaN
            found = windows.times.view(np.int64)
            if len(found) == 0:
                continue
            position = np.minimum(np.searchsorted(found, wanted), len(found) - 1)
            matched = found[position] == wanted
            result[matched, h, column] = windows.X[position[matched], 0, 0]
    return result
