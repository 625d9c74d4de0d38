"""Predict: the run's own test windows reproduce its stored test predictions; inline
series, aliases, the default reference time, coverage errors and the model cache."""

from __future__ import annotations

import uuid

import grpc
import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from tests.models.helpers import register
from tests.training.helpers import expect_error
from tsforge.common.v1 import common_pb2
from tsforge.models.v1 import models_service_pb2 as pb
from tsforge.training.v1 import training_service_pb2 as training_pb

HOURS = 240
START = np.datetime64("2024-01-01T00:00", "ns")


def temperature_series() -> tuple[np.ndarray, np.ndarray]:
    """The uploaded input, as tests.training.helpers.upload_pair wrote it (4 decimals)."""
    t = np.arange(HOURS)
    return START + t * np.timedelta64(3600, "s"), np.round(10 + 5 * np.sin(2 * np.pi * t / 24), 4)


def stored_test_predictions(stack, model_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(reference times in seconds, predicted (n, steps, features)) as training stored them."""
    header, times, values = None, [], []
    for message in stack.training.stub.ReadPredictions(
        training_pb.ReadPredictionsRequest(name=stack.model(model_id), split=common_pb2.DATA_SPLIT_TEST),
        metadata=stack.tenant.metadata,
    ):
        if message.HasField("header"):
            header = message.header
        else:
            times += [t.seconds for t in message.chunk.reference_times]
            values += list(message.chunk.predicted)
    assert header is not None, "ReadPredictions sent no header"
    shape = (len(times), header.output_steps, len(header.features))
    return np.array(times), np.array(values).reshape(shape)


def _stamps(seconds) -> list[Timestamp]:
    return [Timestamp(seconds=int(s)) for s in seconds]


def _values(response) -> np.ndarray:
    steps = [len(s.offsets) for s in response.steps]
    assert all([len(f.values) for f in forecast.features] == steps for forecast in response.forecasts)
    return np.array([[list(f.values) for f in forecast.features] for forecast in response.forecasts]).transpose(0, 2, 1)


@pytest.mark.parametrize("model_id", ["linear", "dense"])
def test_predicting_the_test_windows_reproduces_the_stored_test_predictions(models_stack, model_id):
    stack, tenant = models_stack, models_stack.tenant
    model = f"p-{uuid.uuid4().hex[:8]}"
    register(stack.stub, tenant, model, stack.model(model_id))
    times, expected = stored_test_predictions(stack, model_id)
    assert len(times) > 5
    temperature, _ = stack.files
    response = stack.stub.Predict(
        pb.PredictRequest(
            name=f"registeredModels/{model}/versions/1",
            reference_times=_stamps(times),
            files=pb.FileInputs(inputs=[pb.FileInput(feature="temperature", file=temperature)]),
        ),
        metadata=tenant.metadata,
    )
    assert response.model_version == f"registeredModels/{model}/versions/1"
    assert [f.reference_time.seconds for f in response.forecasts] == times.tolist()
    np.testing.assert_allclose(_values(response), expected, rtol=1e-5, atol=1e-3)
    # Output timestamps: the load horizon 0..3 h in 3 steps.
    assert [(s.feature, [o.ToSeconds() for o in s.offsets]) for s in response.steps] == [("load", [3600, 7200, 10800])]
    assert all(
        [f.feature for f in forecast.features] == ["load"] and len(forecast.features[0].values) == 3
        for forecast in response.forecasts
    )


def test_inline_series_alias_and_the_latest_reference_time(models_stack):
    stack, tenant = models_stack, models_stack.tenant
    model = f"p-{uuid.uuid4().hex[:8]}"
    register(stack.stub, tenant, model, stack.model("linear"))
    stack.stub.SetAlias(
        pb.SetAliasRequest(name=f"registeredModels/{model}", alias="production", version=1), metadata=tenant.metadata
    )
    times, values = temperature_series()
    series = pb.InlineSeries(
        feature="temperature", values=values.tolist(), times=_stamps(times.astype("datetime64[s]").astype(np.int64))
    )
    latest = stack.stub.Predict(
        pb.PredictRequest(name=f"registeredModels/{model}@production", series=pb.InlineInputs(series=[series])),
        metadata=tenant.metadata,
    )
    assert latest.model_version == f"registeredModels/{model}/versions/1"
    last_hour = int(times[-1].astype("datetime64[s]").astype(np.int64))
    assert [f.reference_time.seconds for f in latest.forecasts] == [last_hour]

    stored_times, expected = stored_test_predictions(stack, "linear")
    inline = stack.stub.Predict(
        pb.PredictRequest(
            name=f"registeredModels/{model}@production",
            reference_times=_stamps(stored_times[::-1]),
            series=pb.InlineInputs(series=[series]),
        ),
        metadata=tenant.metadata,
    )
    np.testing.assert_allclose(_values(inline), expected[::-1], rtol=1e-5, atol=1e-3)


def test_inputs_that_do_not_cover_the_window_or_do_not_match(models_stack):
    stack, tenant = models_stack, models_stack.tenant
    model = f"p-{uuid.uuid4().hex[:8]}"
    version = register(stack.stub, tenant, model, stack.model("linear")).name
    times, values = temperature_series()
    series = pb.InlineSeries(
        feature="temperature",
        values=values[:50].tolist(),
        times=_stamps(times[:50].astype("datetime64[s]").astype(np.int64)),
    )
    too_late = Timestamp(seconds=int(times[100].astype("datetime64[s]").astype(np.int64)))
    error = expect_error(
        lambda: stack.stub.Predict(
            pb.PredictRequest(name=version, reference_times=[too_late], series=pb.InlineInputs(series=[series])),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "temperature" in error.details() and "from 2024-01-04T23:00:00Z to 2024-01-05T04:00:00Z" in error.details()
    expect_error(
        lambda: stack.stub.Predict(
            pb.PredictRequest(
                name=version,
                series=pb.InlineInputs(
                    series=[pb.InlineSeries(feature="humidity", times=series.times, values=series.values)]
                ),
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    expect_error(
        lambda: stack.stub.Predict(pb.PredictRequest(name=version), metadata=tenant.metadata),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    expect_error(
        lambda: stack.stub.Predict(
            pb.PredictRequest(
                name=version, files=pb.FileInputs(inputs=[pb.FileInput(feature="temperature", file="files/nope")])
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.NOT_FOUND,
    )


def test_models_are_loaded_once_then_served_warm(models_stack):
    stack, tenant = models_stack, models_stack.tenant
    model = f"p-{uuid.uuid4().hex[:8]}"
    register(stack.stub, tenant, model, stack.model("dense"))
    temperature, _ = stack.files
    request = pb.PredictRequest(
        name=f"registeredModels/{model}/versions/1",
        files=pb.FileInputs(inputs=[pb.FileInput(feature="temperature", file=temperature)]),
    )
    loads = stack.server.cache.loads
    cold = stack.stub.Predict(request, metadata=tenant.metadata)
    warm = stack.stub.Predict(request, metadata=tenant.metadata)
    assert stack.server.cache.loads == loads + 1
    assert _values(cold).tolist() == _values(warm).tolist()


def test_the_cache_is_bounded_by_memory():
    from services.models.model_cache import MEMORY_PER_ARTIFACT_BYTE, ModelCache

    cache = ModelCache(max_bytes=250 * MEMORY_PER_ARTIFACT_BYTE)
    for key in ("a", "b", "c"):
        cache.get(key, lambda key=key: (key, 100))
    assert cache.size_bytes <= 250 * MEMORY_PER_ARTIFACT_BYTE and cache.loads == 3
    cache.get("c", lambda: pytest.fail("c is cached"))
    cache.get("a", lambda: ("a", 100))  # evicted first: loaded again
    assert cache.loads == 4
