import numpy as np
import pytest

from services.evaluation.baselines import (
    Baseline,
    BaselineKey,
    naive_forecast,
    seasonal_key,
    seasonal_naive_forecast,
    training_mean,
    training_mean_forecast,
)
from services.evaluation.comparison import skill
from services.evaluation.metrics import Metric, mase_scale, score

SEASON = 4
PATTERN = np.array([3.0, 7.0, 1.0, 5.0])


def seasonal_windows(samples: int, steps: int, history_steps: int):
    """Windows of the pure seasonal series s(t) = PATTERN[t mod 4], reference time t = sample."""
    t = np.arange(samples)[:, None]
    actual = PATTERN[(t + np.arange(1, steps + 1)) % SEASON][:, :, None]
    history = PATTERN[(t - np.arange(history_steps)) % SEASON][:, :, None]
    return actual, history


def test_seasonal_naive_repeats_the_last_season_before_the_reference_time():
    history = np.array([[40.0, 30.0, 20.0, 10.0]])[:, :, None]  # newest first
    forecast = seasonal_naive_forecast(history, output_steps=6, season_steps=3)
    # h = m − 1 − ((k − 1) mod m): 2, 1, 0, 2, 1, 0.
    assert forecast[0, :, 0].tolist() == [20.0, 30.0, 40.0, 20.0, 30.0, 40.0]
    assert (seasonal_naive_forecast(history, 6, 1) == naive_forecast(history, 6)).all()
    with pytest.raises(ValueError):
        seasonal_naive_forecast(history, 6, 5)


def test_seasonal_naive_is_perfect_on_a_pure_seasonal_series_so_skill_against_it_is_undefined():
    actual, history = seasonal_windows(samples=20, steps=10, history_steps=SEASON)
    baseline = score(actual, seasonal_naive_forecast(history, 10, SEASON)).overall[0]
    assert baseline[Metric.MAE].value == 0.0
    assert baseline[Metric.SMAPE].value == 0.0
    model = score(actual, actual + 0.5).overall[0]
    assert skill(model[Metric.MAE], baseline[Metric.MAE]).undefined_reason == "baseline's error is 0"
    # The same series gives a zero MASE scale at its season, so MASE is undefined too.
    assert mase_scale(actual, history, SEASON)[0].value == 0.0
    assert not score(actual, actual + 0.5, mase_scale(actual, history, SEASON)).overall[0][Metric.MASE].defined


def test_naive_is_perfect_on_a_constant_series_and_not_on_a_seasonal_one():
    constant = np.full((5, 3, 2), 7.0)
    assert score(constant, naive_forecast(constant[:, :1], 3)).overall[1][Metric.MSE].value == 0.0
    actual, history = seasonal_windows(samples=8, steps=4, history_steps=1)
    assert score(actual, naive_forecast(history, 4)).overall[0][Metric.MAE].value > 0


def test_training_mean_skips_missing_values_and_is_nan_for_an_empty_split():
    train = np.array([[[1.0, np.nan], [3.0, np.nan]]])
    assert np.array_equal(training_mean(train), [2.0, np.nan], equal_nan=True)
    assert np.isnan(training_mean(np.empty((0, 4, 2)))).all()
    forecast = training_mean_forecast(np.array([2.0, 5.0]), n_samples=3, output_steps=2)
    assert forecast.shape == (3, 2, 2) and (forecast[..., 1] == 5.0).all()


def test_baselines_are_labelled_with_their_season_in_time():
    assert BaselineKey(Baseline.NAIVE).label(30) == "naive"
    assert BaselineKey(Baseline.TRAINING_MEAN).label(30) == "training mean"
    assert seasonal_key(336).label(30) == "seasonal naive (1 week = 336 steps)"
    assert seasonal_key(96).label(30) == "seasonal naive (2 days = 96 steps)"
    assert seasonal_key(24).label(30) == "seasonal naive (12 h = 24 steps)"
    assert seasonal_key(7).label(5) == "seasonal naive (7 steps)"
    assert seasonal_key(7).label(0) == "seasonal naive (7 steps)"
    assert seasonal_key(1) == BaselineKey(Baseline.NAIVE)
    assert sorted([BaselineKey(Baseline.TRAINING_MEAN), seasonal_key(48), seasonal_key(4), seasonal_key(1)]) == [
        BaselineKey(Baseline.NAIVE),
        seasonal_key(4),
        seasonal_key(48),
        BaselineKey(Baseline.TRAINING_MEAN),
    ]
