"""Fixtures: the tiny dataset, the worker's TensorFlow settings, every model type trained once."""

from __future__ import annotations

import pytest

from tsforge.forecasting.estimators.specs import ModelKind, ResolvedModel
from tsforge.forecasting.estimators.tests.tiny import (
    RICH_PARAMS,
    TINY_PARAMS,
    RecordingReporter,
    rich_data,
    tiny_windows,
)
from tsforge.forecasting.estimators.trainer import TrainedModel, TrainingData, train_model


@pytest.fixture(scope="session")
def tiny_data() -> TrainingData:
    x_train, y_train = tiny_windows(64, seed=1)
    x_val, y_val = tiny_windows(16, seed=2)
    return TrainingData(x_train, y_train, x_val, y_val)


@pytest.fixture(scope="session")
def keras_runtime():
    """TensorFlow with two threads, as a worker configures it (before any TF op)."""
    from tsforge.forecasting.estimators.keras_models import configure_runtime

    configure_runtime(2)


@pytest.fixture(scope="session")
def trained(tiny_data, keras_runtime) -> dict[ModelKind, tuple[TrainedModel, RecordingReporter]]:
    """Every model type trained once on the tiny windows, with what it reported."""
    results = {}
    for kind, params in TINY_PARAMS.items():
        reporter = RecordingReporter()
        model = ResolvedModel("tiny-" + kind.value.replace("_", "-"), "", 7, params)
        results[kind] = train_model(model, tiny_data, reporter), reporter
    return results


@pytest.fixture(scope="session")
def tiny_rich_data() -> TrainingData:
    return rich_data()


@pytest.fixture(scope="session")
def trained_rich(tiny_rich_data, keras_runtime) -> dict[ModelKind, TrainedModel]:
    """Every type train_model trains, once, on windows with a future window and history."""
    return {
        kind: train_model(
            ResolvedModel("rich-" + kind.value.replace("_", "-"), "", 7, params), tiny_rich_data, RecordingReporter()
        )
        for kind, params in RICH_PARAMS.items()
    }
