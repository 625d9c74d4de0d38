"""ReadPredictions' reading of stored prediction intervals (no services needed)."""

from __future__ import annotations

import numpy as np
import pytest

from services.training.results import stored_intervals
from tsforge.core.errors import FailedPrecondition
from tsforge.training.v1 import training_resources_pb2 as tr

MODEL = tr.ModelResult(name="runs/r/models/m")


def _arrays(levels=(0.8, 0.95), rows=4, steps=3, features=2, **overrides) -> dict[str, np.ndarray]:
    predicted = np.zeros((rows, steps, features), dtype=np.float32)
    arrays = {
        "predicted": predicted,
        "lower": np.zeros((rows, len(levels), steps, features), dtype=np.float32),
        "upper": np.ones((rows, len(levels), steps, features), dtype=np.float32),
        "interval_levels": np.array(levels),
    }
    arrays.update(overrides)
    return arrays


def test_predictions_without_bounds_have_no_intervals():
    assert stored_intervals({"predicted": np.zeros((2, 3, 1))}, MODEL, MODEL.name) == ([], {})


def test_the_levels_and_bounds_are_read_as_stored():
    levels, bounds = stored_intervals(_arrays(), MODEL, MODEL.name)
    assert levels == [0.8, 0.95]
    assert set(bounds) == {"lower", "upper"} and bounds["lower"].shape == (4, 2, 3, 2)


@pytest.mark.parametrize(
    "arrays",
    [
        _arrays(lower=np.zeros((4, 1, 3, 2))),  # one level of bounds for two levels
        _arrays(levels=(0.95, 0.8)),  # not ascending
        _arrays(levels=(80.0,)),  # a percentage, not a fraction
        {key: value for key, value in _arrays().items() if key != "interval_levels"},  # no levels anywhere
    ],
    ids=["shape", "order", "range", "no-levels"],
)
def test_bounds_that_do_not_fit_their_levels_are_a_failed_precondition(arrays):
    with pytest.raises(FailedPrecondition, match="do not fit"):
        stored_intervals(arrays, MODEL, MODEL.name)
