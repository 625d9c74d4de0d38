import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    root_mean_squared_error,
)

from services.evaluation.metrics import (
    EMPTY_SPLIT,
    Metric,
    MetricValue,
    mase_scale,
    score,
    score_forecasts,
)


def column(*values: float) -> np.ndarray:
    """Values as samples of one step of one feature: shape (n, 1, 1)."""
    return np.array(values, dtype=np.float64).reshape(-1, 1, 1)


def overall(actual, predicted, mase_scales=None):
    return score(actual, predicted, mase_scales).overall[0]


def test_every_metric_matches_the_hand_computed_value():
    # y = 1, 2, 4; ŷ = 2, 2, 1; |e| = 1, 0, 3.
    scores = overall(column(1, 2, 4), column(2, 2, 1), [2.0])
    rmse = math.sqrt(10 / 3)
    expected = {
        Metric.MAE: 4 / 3,
        Metric.MAPE: 100 / 3 * (1 / 1 + 0 / 2 + 3 / 4),
        Metric.MSE: 10 / 3,
        Metric.RMSE: rmse,
        Metric.NRMSE_MEAN: rmse / (7 / 3),
        Metric.NRMSE_RANGE: rmse / 3,
        Metric.WAPE: 100 * 4 / 7,
        Metric.SMAPE: 100 / 3 * (2 * 1 / 3 + 0 + 2 * 3 / 5),
        Metric.MASE: (4 / 3) / 2,
    }
    assert list(scores.values) == list(Metric)
    for metric, value in expected.items():
        assert scores[metric].value == pytest.approx(value, rel=1e-12), metric
    assert (scores.count, scores.excluded) == (3, 0)


def test_nrmse_by_mean_uses_the_absolute_mean():
    scores = overall(column(-1, -3), column(-2, -3))
    assert scores[Metric.NRMSE_MEAN].value == pytest.approx(math.sqrt(0.5) / 2)


def test_per_step_and_overall_cells():
    actual = np.array([[[1.0, 10.0], [2.0, 20.0]], [[3.0, 30.0], [4.0, 40.0]]])  # 2 samples, 2 steps, 2 features
    predicted = np.array([[[1.0, 11.0], [3.0, 20.0]], [[5.0, 30.0], [4.0, 44.0]]])
    result = score(actual, predicted)
    assert [[cell[Metric.MAE].value for cell in step] for step in result.per_step] == [
        [1.0, 0.5],
        [0.5, 2.0],
    ]
    assert [cell[Metric.MAE].value for cell in result.overall] == [0.75, 1.25]
    assert result.per_step[1][1][Metric.NRMSE_RANGE].value == pytest.approx(math.sqrt(8) / 20)
    assert result.overall[0][Metric.NRMSE_RANGE].value == pytest.approx(math.sqrt(5 / 4) / 3)
    assert result.overall[1].count == 4


def test_agrees_with_scikit_learn_overall_and_per_step():
    generator = np.random.default_rng(3)
    actual = generator.uniform(1, 100, (200, 4, 3))
    predicted = actual + generator.normal(0, 5, actual.shape)
    result = score(actual, predicted)
    cells = [(result.overall[f], actual[:, :, f].ravel(), predicted[:, :, f].ravel()) for f in range(3)]
    cells += [(result.per_step[k][f], actual[:, k, f], predicted[:, k, f]) for k in range(4) for f in range(3)]
    for scores, y, y_hat in cells:
        assert scores[Metric.MAE].value == pytest.approx(mean_absolute_error(y, y_hat), rel=1e-12)
        assert scores[Metric.MSE].value == pytest.approx(mean_squared_error(y, y_hat), rel=1e-12)
        assert scores[Metric.RMSE].value == pytest.approx(root_mean_squared_error(y, y_hat), rel=1e-12)
        # scikit-learn's MAPE is a fraction and only differs from ours where y is 0 (none here).
        assert scores[Metric.MAPE].value == pytest.approx(100 * mean_absolute_percentage_error(y, y_hat), rel=1e-12)


def test_zeros_in_actuals_make_mape_undefined_and_say_how_many():
    scores = overall(column(0, 2, 4), column(1, 2, 5))
    assert scores[Metric.MAPE] == MetricValue.undefined("actual values contain zeros (1 of 3)")
    assert scores[Metric.MAE].value == pytest.approx(2 / 3)
    assert scores[Metric.WAPE].value == pytest.approx(100 * 2 / 6)


def test_constant_actuals_make_nrmse_by_range_undefined():
    scores = overall(column(5, 5, 5), column(4, 5, 6))
    assert scores[Metric.NRMSE_RANGE] == MetricValue.undefined("actual values are constant")
    assert scores[Metric.NRMSE_MEAN].value == pytest.approx(math.sqrt(2 / 3) / 5)


def test_zero_mean_of_actuals_makes_nrmse_by_mean_undefined():
    scores = overall(column(-1, 1), column(0, 1))
    assert scores[Metric.NRMSE_MEAN] == MetricValue.undefined("mean of actual values is 0")
    assert scores[Metric.NRMSE_RANGE].value == pytest.approx(math.sqrt(0.5) / 2)


def test_all_zero_actuals_make_wape_undefined_and_smape_counts_exact_zeros_as_zero():
    scores = overall(column(0, 0), column(0, 1))
    assert scores[Metric.WAPE] == MetricValue.undefined("every actual value is 0")
    assert scores[Metric.SMAPE].value == pytest.approx(100 / 2 * (0 + 2))
    assert overall(column(0, 2), column(0, 1))[Metric.SMAPE].value == pytest.approx(100 / 2 * (2 / 3))
    assert overall(column(0.0), column(0.0))[Metric.SMAPE].value == 0.0


def test_smape_of_subnormal_values_is_not_swallowed():
    tiny = 1e-320
    assert overall(column(tiny), column(0.0))[Metric.SMAPE].value == pytest.approx(200.0)


def test_an_empty_split_leaves_every_metric_undefined():
    result = score(np.empty((0, 3, 2)), np.empty((0, 3, 2)), [1.0, 1.0])
    for cell in (*result.overall, *(cell for step in result.per_step for cell in step)):
        assert all(value == MetricValue.undefined(EMPTY_SPLIT) for value in cell.values.values())
        assert (cell.count, cell.excluded) == (0, 0)


def test_mase_without_a_usable_scale_is_undefined():
    actual, predicted = column(1, 2), column(2, 2)
    assert not overall(actual, predicted)[Metric.MASE].defined
    assert "is 0" in overall(actual, predicted, [0.0])[Metric.MASE].undefined_reason
    reason = "MASE scale: empty training split"
    assert overall(actual, predicted, [MetricValue.undefined(reason)])[Metric.MASE].undefined_reason == reason


def test_pairs_with_non_finite_values_are_excluded_and_counted():
    scores = overall(column(1, np.nan, 4, 2, 3), column(2, 5, np.inf, 2, np.nan))
    assert (scores.count, scores.excluded) == (2, 3)
    assert scores[Metric.MAE].value == pytest.approx(0.5)
    assert scores[Metric.NRMSE_RANGE].value == pytest.approx(math.sqrt(0.5) / 1)
    nothing = overall(column(np.nan), column(1.0))
    assert nothing[Metric.MAE].undefined_reason == "no pair with finite actual and forecast (1 excluded)"


def test_a_forecast_with_non_finite_values_does_not_change_the_others():
    actual = column(1, 2, 3, 4)
    results = score_forecasts(actual, {"good": column(1, 2, 3, 5), "bad": column(np.nan, 2, 3, 5)})
    assert results["good"].overall[0].count == 4
    assert results["good"].overall[0][Metric.MAE].value == pytest.approx(0.25)
    assert results["bad"].overall[0].count == 3
    assert results["bad"].overall[0][Metric.MAE].value == pytest.approx(1 / 3)


def test_overflow_is_undefined_not_infinite():
    scores = overall(column(1e308), column(-1e308))
    assert scores[Metric.MAE] == MetricValue.undefined("not finite (overflow)")
    assert scores[Metric.MSE] == MetricValue.undefined("not finite (overflow)")


def test_metric_value_holds_exactly_one_of_value_and_reason():
    with pytest.raises(ValueError):
        MetricValue(None, "")
    with pytest.raises(ValueError):
        MetricValue(1.0, "why")
    with pytest.raises(ValueError):
        MetricValue(math.nan)


values = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, math.nan, math.inf, 1e308, 1e-320]),
    st.floats(-1e6, 1e6),
)


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(0, 4), st.integers(1, 3), st.just(2)),
        elements=values,
    ),
    st.data(),
)
def test_never_nan_never_an_exception(actual, data):
    predicted = data.draw(arrays(np.float64, actual.shape, elements=values))
    result = score(actual, predicted, [1.0, 0.0])
    n, steps, _ = actual.shape
    cells = [(cell, n * steps) for cell in result.overall]
    cells += [(cell, n) for step in result.per_step for cell in step]
    for cell, pairs in cells:
        assert cell.count + cell.excluded == pairs
        for value in cell.values.values():
            assert (value.value is not None and math.isfinite(value.value)) != bool(value.undefined_reason)


def test_mase_scale_is_the_in_sample_seasonal_naive_mae_over_training_windows():
    # Sample 0: history (newest first) 10, 8 then actuals 11, 13, 12 → series 8, 10, 11, 13, 12.
    # Sample 1: constant 5.
    train_actual = np.array([[11.0, 13.0, 12.0], [5.0, 5.0, 5.0]])[:, :, None]
    train_history = np.array([[10.0, 8.0], [5.0, 5.0]])[:, :, None]
    assert mase_scale(train_actual, train_history, 1)[0].value == pytest.approx((1 + 2 + 1) / 6)
    assert mase_scale(train_actual, train_history, 2)[0].value == pytest.approx((3 + 3 + 1) / 6)
    with pytest.raises(ValueError, match="fewer than season_steps"):
        mase_scale(train_actual, train_history, 3)


def test_mase_scale_skips_missing_history_and_is_undefined_for_an_empty_split():
    train_actual = np.array([[2.0, 4.0]])[:, :, None]
    train_history = np.array([[np.nan]])[:, :, None]
    assert mase_scale(train_actual, train_history)[0].value == 2.0
    empty = mase_scale(np.empty((0, 2, 1)), np.empty((0, 1, 1)))
    assert empty[0] == MetricValue.undefined("MASE scale: empty training split")
