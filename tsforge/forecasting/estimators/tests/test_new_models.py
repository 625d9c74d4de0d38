"""LightGBM, the statistical models, the SVR's standardised target and ensembles."""

from __future__ import annotations

import numpy as np
import pytest

from tsforge.forecasting.estimators import ensemble, lightgbm_models, sklearn_models
from tsforge.forecasting.estimators.progress import NullReporter
from tsforge.forecasting.estimators.specs import (
    AutoEtsSpec,
    LightGbmSpec,
    MstlSpec,
    ResolvedModel,
    SeasonalNaiveSpec,
    SvrDirectSpec,
    SvrMimoSpec,
)
from tsforge.forecasting.estimators.tests.tiny import (
    GRID_START,
    HOUR_NS,
    OUTPUT_STEPS,
    RecordingReporter,
    rich_data,
)
from tsforge.forecasting.estimators.trainer import TrainingCancelled, TrainingData, load_model, train_model
from tsforge.forecasting.target_history import TargetHistory


def _model(params, seed=0):
    return ResolvedModel("m", "", seed, params)


# ---------------------------------------------------------------------------
# LightGBM
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["direct", "step_feature"])
def test_lightgbm_learns_from_the_future_window_and_round_trips(strategy):
    # The target is the future window's first column at the same step: only the future
    # window can tell it.
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (400, 4, 1)).astype(np.float32)
    future = rng.uniform(0, 1, (400, OUTPUT_STEPS, 2)).astype(np.float32)
    y = future[:, :, :1] * 2 + 0.1
    data = TrainingData(x[:300], y[:300], x[300:], y[300:], future_train=future[:300], future_val=future[300:])
    spec = LightGbmSpec(n_estimators=200, strategy=strategy, min_child_samples=5)

    trained = train_model(_model(spec), data, NullReporter())

    predicted = trained.predict(data.x_val, data.future_val)
    assert predicted.shape == data.y_val.shape
    assert np.abs(predicted - data.y_val).mean() < 0.05
    assert trained.artifact_format == "lightgbm"
    loaded = load_model(trained.artifact, "lightgbm")
    np.testing.assert_allclose(loaded.predict(data.x_val, data.future_val), predicted, rtol=1e-6)
    assert len(loaded.boosters) == (OUTPUT_STEPS if strategy == "direct" else 1)
    with pytest.raises(ValueError, match="future windows"):
        loaded.predict(data.x_val)


def test_lightgbm_stops_early_on_the_validation_split_and_keeps_the_best_round():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (300, 3, 1)).astype(np.float32)
    y = rng.normal(0, 1, (300, 1, 1)).astype(np.float32)  # noise: validation never improves for long
    data = TrainingData(x[:200], y[:200], x[200:], y[200:])
    booster = lightgbm_models.fit_lightgbm(
        LightGbmSpec(n_estimators=500, early_stopping_rounds=5), 0, data, lambda: False
    )
    assert booster.boosters[0].current_iteration() < 100


def test_lightgbm_is_deterministic_and_cancellable(tiny_rich_data):
    spec = LightGbmSpec(n_estimators=20, num_leaves=4, min_child_samples=5)
    first = train_model(_model(spec, 3), tiny_rich_data, NullReporter())
    second = train_model(_model(spec, 3), tiny_rich_data, NullReporter())
    assert first.artifact == second.artifact
    with pytest.raises(TrainingCancelled):
        train_model(_model(spec), tiny_rich_data, RecordingReporter(stop_after=3))


# ---------------------------------------------------------------------------
# Statistical models
# ---------------------------------------------------------------------------


def _seasonal_data(hours=24 * 7 * 5, noise=0.0, seed=0, weekly=0.1) -> TrainingData:
    """Hourly double-seasonal values (a day and a week) as the output history; windows
    at every hour after the first two weeks, 70 % training."""
    t = np.arange(hours)
    rng = np.random.default_rng(seed)
    values = 0.5 + 0.2 * np.sin(2 * np.pi * t / 24) + weekly * np.sin(2 * np.pi * t / 168)
    values = values + rng.normal(0, noise, hours)
    history = TargetHistory(GRID_START, HOUR_NS, values[:, None], lead=0)
    index = np.arange(24 * 14, hours - OUTPUT_STEPS)
    y = np.stack([values[index + k] for k in range(1, OUTPUT_STEPS + 1)], axis=1)[:, :, None].astype(np.float32)
    x = np.zeros((len(index), 1, 1), dtype=np.float32)
    references = GRID_START + HOUR_NS * index.astype(np.int64)
    cut = int(0.7 * len(index))
    return TrainingData(
        x[:cut],
        y[:cut],
        x[cut:],
        y[cut:],
        history=history,
        train_references=references[:cut],
        val_references=references[cut:],
    )


def test_mstl_forecasts_a_double_seasonal_series_from_each_reference_time():
    data = _seasonal_data(noise=0.005)
    trained = train_model(_model(MstlSpec()), data, NullReporter())
    assert trained.effective_params.season_hours == (24.0, 168.0)  # five weeks of data: a day and a week
    predicted = trained.predict(data.x_val, data.future_val, data.history_at(data.val_references))
    assert np.abs(predicted - data.y_val).mean() < 0.01
    naive = train_model(_model(SeasonalNaiveSpec(season_hours=(24.0,))), data, NullReporter())
    naive_error = np.abs(naive.predict(data.x_val, None, data.history_at(data.val_references)) - data.y_val).mean()
    assert np.abs(predicted - data.y_val).mean() < 0.5 * naive_error


def test_seasonal_naive_is_the_value_one_season_before_each_step():
    data = _seasonal_data()
    trained = train_model(_model(SeasonalNaiveSpec(season_hours=(24.0,))), data, NullReporter())
    windows = data.history_at(data.val_references)
    predicted = trained.predict(data.x_val, None, windows)
    values = data.history.values[:, 0]
    index = (data.val_references - GRID_START) // HOUR_NS
    expected = np.stack([values[index + k - 24] for k in range(1, OUTPUT_STEPS + 1)], axis=1)
    np.testing.assert_allclose(predicted[:, :, 0], expected, atol=1e-6)


def test_auto_ets_keeps_the_seasonal_phase_at_any_reference_time():
    data = _seasonal_data(noise=0.005, weekly=0.0)
    trained = train_model(_model(AutoEtsSpec(season_hours=(24.0,))), data, NullReporter())
    predicted = trained.predict(data.x_val, None, data.history_at(data.val_references))
    error = np.abs(predicted - data.y_val)
    # No reference time is worse off: a misaligned seasonal state would show as errors
    # that depend on the hour of the day.
    # (started five hours off the fitted phase, they are 0.05 to 0.2).
    by_hour = [error[(data.val_references // HOUR_NS) % 24 == h].mean() for h in range(24)]
    assert max(by_hour) < 0.01


def test_gaps_in_the_history_are_bridged_and_a_missing_history_is_refused():
    data = _seasonal_data(noise=0.005)
    trained = train_model(_model(MstlSpec()), data, NullReporter())
    values = data.history.values.copy()
    values[-200:-190] = np.nan
    holed = TargetHistory(data.history.start, data.history.step, values)
    predicted = trained.predict(data.x_val, None, holed.at(data.val_references))
    assert np.isfinite(predicted).all()
    with pytest.raises(ValueError, match="output history"):
        trained.predict(data.x_val)
    with pytest.raises(ValueError, match="regular grid"):
        train_model(_model(MstlSpec()), TrainingData(data.x_train, data.y_train), NullReporter())


# ---------------------------------------------------------------------------
# SVR's standardised target
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("params", [SvrDirectSpec(), SvrMimoSpec(kernel="rbf")], ids=repr)
def test_svr_is_not_biased_on_a_target_in_a_narrow_band(params):
    # A scaled target in 0.90..0.95 (as when the test period lies at the edge of the
    # training range): epsilon 0.1 on the raw target would be a tube wider than the band.
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, (240, 4, 1)).astype(np.float32)
    y = (0.9 + 0.05 * x[:, -1:, :]).repeat(2, axis=1)
    data = TrainingData(x[:200], y[:200], x[200:], y[200:])
    trained = train_model(_model(params), data, NullReporter())
    predicted = trained.predict(data.x_val)
    assert abs(float((predicted - data.y_val).mean())) < 0.005
    assert np.abs(predicted - data.y_val).mean() < 0.01


def test_bundled_svrs_are_plain_scikit_learn_objects(tiny_data):
    direct = sklearn_models.fit_sklearn(SvrDirectSpec(), tiny_data.x_train, tiny_data.y_train)
    layout, plain = sklearn_models.plain_estimator(direct)
    assert layout == "flattened" and type(plain).__module__.startswith("sklearn.")
    flat = tiny_data.x_val.reshape(len(tiny_data.x_val), -1)
    np.testing.assert_allclose(
        plain.predict(flat).reshape(tiny_data.y_val.shape), direct.predict(tiny_data.x_val), rtol=1e-5, atol=1e-6
    )
    mimo = sklearn_models.fit_sklearn(SvrMimoSpec(), tiny_data.x_train, tiny_data.y_train)
    layout, estimators = sklearn_models.plain_estimator(mimo)
    assert layout == "step-indexed" and all(type(e).__module__.startswith("sklearn.") for e in estimators)


# ---------------------------------------------------------------------------
# Ensembles
# ---------------------------------------------------------------------------


def test_ensemble_weights_are_convex_and_favour_the_better_member():
    rng = np.random.default_rng(0)
    actual = rng.normal(0, 1, (200, 3, 2))
    good = actual + rng.normal(0, 0.1, actual.shape)
    bad = actual + rng.normal(0, 1.0, actual.shape)
    biased = actual + 0.5
    weights = ensemble.fit_weights(np.stack([good, bad, biased]), actual)
    assert weights.shape == (3, 2)
    np.testing.assert_allclose(weights.sum(axis=0), 1.0, atol=1e-9)
    assert (weights >= 0).all() and (weights[0] > 0.8).all()
    combined = ensemble.combine(np.stack([good, bad, biased]), weights)
    assert np.abs(combined - actual).mean() <= np.abs(good - actual).mean() * 1.01
    # Two equally good, independent members: about half each, better than either.
    other = actual + rng.normal(0, 0.1, actual.shape)
    pair = ensemble.fit_weights(np.stack([good, other]), actual)
    assert (np.abs(pair - 0.5) < 0.1).all()
    assert np.allclose(ensemble.fit_weights(np.stack([good, other]), actual[:0]), 0.5)


def test_cross_fitted_validation_forecasts_are_out_of_sample():
    rng = np.random.default_rng(2)
    actual = rng.normal(0, 1, (100, 2, 1))
    # Member 0 is good on the first half only, member 1 on the second only: in-sample
    # weights look fine, each half's weights are wrong for the other half.
    first = np.concatenate([actual[:50], rng.normal(0, 1, (50, 2, 1))])
    second = np.concatenate([rng.normal(0, 1, (50, 2, 1)), actual[50:]])
    members = np.stack([first, second])
    in_sample = ensemble.combine(members, ensemble.fit_weights(members, actual))
    honest = ensemble.cross_fitted(members, actual)
    assert honest.shape == actual.shape
    assert np.abs(honest - actual).mean() > 1.5 * np.abs(in_sample - actual).mean()


def test_ensemble_artifact_reads_its_members_and_weights():
    data = rich_data()
    member = train_model(_model(LightGbmSpec(n_estimators=5, min_child_samples=5)), data, NullReporter())
    weights = np.array([[0.3, 0.5], [0.7, 0.5]])
    members = [ensemble.Member(f"m-{i}", "MODEL_TYPE_LIGHTGBM", "lightgbm", member.artifact) for i in range(2)]
    document, files = ensemble.read(ensemble.to_bytes(members, weights))
    assert [m["model_id"] for m in document["members"]] == ["m-0", "m-1"]
    assert [m["weights"] for m in document["members"]] == weights.tolist()
    assert set(files) == {"members/m-0.json", "members/m-1.json"}
    with pytest.raises(ValueError, match="ensemble"):
        ensemble.read(b"not a zip")
