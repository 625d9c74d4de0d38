"""Min-max scalers: fitted on the training split only, round-tripped through JSON."""

import json

import numpy as np
import pytest

from tsforge.forecasting.scaling import FeatureScaler, MinMaxScalers
from tsforge.forecasting.splitting import split_indices
from tsforge.forecasting.windowing import FeatureSpec, Windows

INPUTS = [FeatureSpec("load", -24, 0), FeatureSpec("temperature", -24, 0, scale_min=-1.0, scale_max=1.0)]
OUTPUTS = [FeatureSpec("load", 0, 6)]


def windows(X, y) -> Windows:
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.float32)
    return Windows(
        X, y, np.zeros(len(X), dtype="datetime64[ns]"), 0, ("load", "temperature", "calendar.day_sin"), ("load",)
    )


def rising_windows(count: int = 100) -> Windows:
    # Sample i: load i..i+2, temperature -i, a calendar column of 5; test samples (last 10)
    # carry loads of 1000 and more, far outside what training saw.
    load = np.arange(count, dtype=float)
    load[-10:] += 1000
    X = np.stack([load[:, None] + [0, 1, 2], -load[:, None] + [0, 0, 0], np.full((count, 3), 5.0)], axis=-1)
    y = load[:, None, None] * np.ones((1, 2, 1))
    return windows(X, y)


def test_scalers_see_only_the_training_split():
    data = rising_windows()
    split = split_indices(100)
    scalers = MinMaxScalers.fit(data, split.train, INPUTS, OUTPUTS)
    load, temperature = scalers.inputs
    assert (load.data_min, load.data_max) == (0, 71)  # samples 0..69, loads up to 69 + 2
    assert load.data_mean == pytest.approx(np.mean(np.arange(70)) + 1)
    assert (temperature.data_min, temperature.data_max) == (-69, 0)
    assert (scalers.outputs[0].data_min, scalers.outputs[0].data_max) == (0, 69)

    X = scalers.transform_inputs(data.X)
    train, test = X[split.train], X[split.test]
    assert train[..., 0].min() == 0 and train[..., 0].max() == 1
    assert train[..., 1].min() == -1 and train[..., 1].max() == 1
    assert test[..., 0].min() > 14  # (1090 - 0) / 71: far above the training range
    np.testing.assert_array_equal(X[..., 2], data.X[..., 2])  # calendar columns untouched
    assert data.X[-1, 0, 0] == 1099  # copy=True left the input alone


def test_a_scaler_fitted_with_the_test_split_would_differ():
    data = rising_windows()
    everything = MinMaxScalers.fit(data, np.arange(100), INPUTS, OUTPUTS)
    training_only = MinMaxScalers.fit(data, split_indices(100).train, INPUTS, OUTPUTS)
    assert everything.inputs[0].data_max == 1101 != training_only.inputs[0].data_max


def test_outputs_round_trip_through_inverse_transform():
    data = rising_windows()
    scalers = MinMaxScalers.fit(data, split_indices(100).train, INPUTS, OUTPUTS)
    scaled = scalers.transform_outputs(data.y)
    assert scaled[:70].min() == 0 and scaled[:70].max() == 1
    np.testing.assert_allclose(scalers.inverse_transform_outputs(scaled), data.y, rtol=1e-6)
    in_place = data.y.copy()
    assert scalers.transform_outputs(in_place, copy=False) is in_place
    np.testing.assert_array_equal(in_place, scaled)


def test_values_far_from_zero_keep_their_precision():
    X = 1e6 + np.linspace(0, 10, 30, dtype=np.float32).reshape(10, 3, 1)
    data = Windows(X, X.copy(), np.zeros(10, dtype="datetime64[ns]"), 0, ("a",), ("a",))
    specs = [FeatureSpec("a", -1, 0)]
    scaled = MinMaxScalers.fit(data, np.arange(10), specs, specs).transform_inputs(data.X)
    np.testing.assert_allclose(scaled.ravel(), (X.ravel().astype(float) - 1e6) / 10, atol=1e-6)


def test_a_constant_training_feature_maps_to_the_midpoint_without_dividing_by_zero():
    X = np.full((4, 2, 1), 7.0)
    X[3] = 9.0  # only in the test sample
    data = Windows(X.astype(np.float32), X.astype(np.float32), np.zeros(4, dtype="datetime64[ns]"), 0, ("a",), ("a",))
    specs = [FeatureSpec("a", -1, 0, scale_min=0.0, scale_max=2.0)]
    scalers = MinMaxScalers.fit(data, np.arange(3), specs, specs)
    with np.errstate(all="raise"):
        scaled = scalers.transform_inputs(data.X)
        back = scalers.inverse_transform_outputs(scalers.transform_outputs(data.y))
    assert np.all(scaled[:3] == 1.0)  # midpoint of 0..2
    assert np.all(np.isfinite(scaled)) and np.all(scaled[3] > 1.0)
    np.testing.assert_array_equal(back, data.y)


def test_scalers_survive_json():
    data = rising_windows()
    scalers = MinMaxScalers.fit(data, split_indices(100).train, INPUTS, OUTPUTS)
    restored = MinMaxScalers.from_dict(json.loads(json.dumps(scalers.to_dict())))
    assert restored == scalers
    assert isinstance(restored.inputs[0], FeatureScaler)
    with pytest.raises(ValueError, match="version"):
        MinMaxScalers.from_dict({"version": 99, "inputs": [], "outputs": []})
    with pytest.raises(ValueError, match="malformed"):
        MinMaxScalers.from_dict({"version": 1, "inputs": [{"feature": "x"}], "outputs": []})


def test_empty_training_split_raises():
    with pytest.raises(ValueError, match="empty"):
        MinMaxScalers.fit(rising_windows(), np.arange(0), INPUTS, OUTPUTS)
