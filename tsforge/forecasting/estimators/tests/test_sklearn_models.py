"""SVR direct, SVR MIMO and linear regression: shapes, determinism, cancellation."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pytest
from sklearn.svm import SVR

from tsforge.forecasting.estimators import sklearn_models
from tsforge.forecasting.estimators.progress import NullReporter
from tsforge.forecasting.estimators.specs import LinearRegressionSpec, ResolvedModel, SvrDirectSpec, SvrMimoSpec
from tsforge.forecasting.estimators.tests.tiny import N_OUTPUTS, OUTPUT_STEPS, RecordingReporter
from tsforge.forecasting.estimators.trainer import ArtifactFormat, TrainingCancelled, load_model, train_model

SKLEARN_SPECS = [SvrDirectSpec(), SvrMimoSpec(), SvrMimoSpec(kernel="rbf", c=2.0, epsilon=0.0), LinearRegressionSpec()]


@pytest.mark.parametrize("params", SKLEARN_SPECS, ids=repr)
def test_same_data_gives_identical_predictions_and_artifacts_round_trip(tiny_data, params):
    model = ResolvedModel("m", "", 0, params)
    first = train_model(model, tiny_data, NullReporter())
    second = train_model(model, tiny_data, NullReporter())

    predicted = first.predict(tiny_data.x_val)
    assert predicted.shape == (16, OUTPUT_STEPS, N_OUTPUTS) and predicted.dtype == np.float32
    assert np.isfinite(predicted).all()
    np.testing.assert_array_equal(predicted, second.predict(tiny_data.x_val))
    assert first.artifact_format == ArtifactFormat.JOBLIB == "joblib"
    assert (first.history, first.best_epoch) == ([], 0)
    np.testing.assert_array_equal(load_model(first.artifact, "joblib").predict(tiny_data.x_val), predicted)


def test_linear_regression_keeps_steps_and_features_in_place(tiny_data):
    # The tiny outputs are an exact linear function of the inputs: OLS must recover
    # each (step, feature) where it belongs.
    model = train_model(ResolvedModel("ols", "", 0, LinearRegressionSpec()), tiny_data, NullReporter())
    np.testing.assert_allclose(model.predict(tiny_data.x_val), tiny_data.y_val, atol=1e-4)


@pytest.mark.parametrize(
    ("params", "share_of_baseline"),
    [
        (SvrDirectSpec(kernel="linear", epsilon=0.01), 0.01),
        (SvrDirectSpec(), 0.3),
        # The poly kernel's step × input terms let one model give every step its own map.
        (SvrMimoSpec(), 0.6),
    ],
    ids=repr,
)
def test_svrs_beat_the_mean_forecast(tiny_data, params, share_of_baseline):
    baseline = np.mean((tiny_data.y_val - tiny_data.y_train.mean(axis=0)) ** 2)
    model = train_model(ResolvedModel("svr", "", 0, params), tiny_data, NullReporter())
    assert np.mean((model.predict(tiny_data.x_val) - tiny_data.y_val) ** 2) < share_of_baseline * baseline


def test_direct_fits_one_svr_per_step_and_feature_mimo_one_per_feature(tiny_data):
    direct = sklearn_models.fit_sklearn(SvrDirectSpec(), tiny_data.x_train, tiny_data.y_train)
    mimo = sklearn_models.fit_sklearn(SvrMimoSpec(), tiny_data.x_train, tiny_data.y_train)
    assert len(direct.estimator.estimators_) == OUTPUT_STEPS * N_OUTPUTS
    assert len(mimo.estimator.estimators_) == N_OUTPUTS


def test_mimo_predicts_every_step_from_the_step_index(tiny_data):
    # One model covers all steps: changing only the step input changes the forecast.
    mimo = sklearn_models.fit_sklearn(SvrMimoSpec(kernel="rbf"), tiny_data.x_train, tiny_data.y_train)
    predicted = mimo.predict(tiny_data.x_val)
    assert not np.allclose(predicted[:, 0, :], predicted[:, 1, :])


def count_svr_fits(monkeypatch) -> list[int]:
    fits = []
    original = SVR.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SVR, "fit", counting_fit)
    return fits


@pytest.mark.parametrize("params", [SvrDirectSpec(), SvrMimoSpec()], ids=repr)
def test_cancel_stops_before_the_second_sub_model(tiny_data, monkeypatch, params):
    fits = count_svr_fits(monkeypatch)
    reporter = RecordingReporter(stop_after=1)

    with pytest.raises(TrainingCancelled):
        train_model(ResolvedModel("svr", "", 0, params), tiny_data, reporter)

    assert len(fits) == 1
    assert reporter.stop_checks == 2


def test_cancel_before_linear_regression_fits_nothing(tiny_data):
    with pytest.raises(TrainingCancelled):
        train_model(ResolvedModel("ols", "", 0, LinearRegressionSpec()), tiny_data, RecordingReporter(stop_after=0))


def test_wrong_window_shape_and_foreign_artifacts_are_refused(tiny_data):
    model = train_model(ResolvedModel("ols", "", 0, LinearRegressionSpec()), tiny_data, NullReporter())
    with pytest.raises(ValueError, match="expected input windows"):
        model.predict(tiny_data.x_val[:, :4])
    assert model.predict(tiny_data.x_val[:0]).shape == (0, OUTPUT_STEPS, N_OUTPUTS)
    with pytest.raises(ValueError, match="not a tsforge"):
        load_model(_joblib_bytes({"not": "a model"}), "joblib")


def _joblib_bytes(value) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(value, buffer)
    return buffer.getvalue()
