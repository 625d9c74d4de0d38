"""Data and calls the training tests share."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import grpc
import numpy as np

from tests.upload.helpers import stream_upload
from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb

TERMINAL_RUN = (tr.RUN_STATE_SUCCEEDED, tr.RUN_STATE_FAILED, tr.RUN_STATE_CANCELLED)


def hourly_csv(name: str, values: np.ndarray, start=datetime(2024, 1, 1)) -> bytes:
    lines = [f"time;{name}"] + [f"{start + timedelta(hours=i):%Y-%m-%d %H:%M:%S};{v:.4f}" for i, v in enumerate(values)]
    return ("\n".join(lines) + "\n").encode()


def upload_pair(upload_stub, tenant, hours: int = 240) -> tuple[str, str]:
    """An input (temperature) and an output (load that follows it) file; their names."""
    t = np.arange(hours)
    temperature = 10 + 5 * np.sin(2 * np.pi * t / 24)
    load = 100 + 3 * temperature + np.cos(2 * np.pi * t / 24)
    temperature_file = stream_upload(upload_stub, tenant, hourly_csv("temperature", temperature), file_name="t.csv")
    load_file = stream_upload(
        upload_stub, tenant, hourly_csv("load", load), role=common_pb2.FEATURE_ROLE_OUTPUT, file_name="load.csv"
    )
    return temperature_file.name, load_file.name


def small_spec(temperature: str, load: str, **window) -> tr.DatasetSpec:
    return tr.DatasetSpec(
        inputs=[tr.FeatureSpec(file=temperature, horizon=common_pb2.HorizonHours(start=-6, end=0))],
        outputs=[tr.FeatureSpec(file=load, horizon=common_pb2.HorizonHours(start=0, end=3))],
        window=tr.WindowConfig(
            input_steps=window.get("input_steps", 6), output_steps=window.get("output_steps", 3), step_minutes=60
        ),
        calendar=tr.CalendarFeatures(day=True),
    )


def create_session(stub, tenant, spec: tr.DatasetSpec) -> tr.Session:
    return stub.CreateSession(
        pb.CreateSessionRequest(session=tr.Session(display_name="test", spec=spec)), metadata=tenant.metadata
    ).session


def build_ready_dataset(stub, tenant, session: tr.Session, timeout: float = 60) -> tr.Dataset:
    dataset = stub.BuildDataset(pb.BuildDatasetRequest(parent=session.name), metadata=tenant.metadata).dataset
    events = [
        r.event
        for r in stub.WatchDatasetBuild(
            pb.WatchDatasetBuildRequest(name=dataset.name), metadata=tenant.metadata, timeout=timeout
        )
    ]
    assert events[-1].state_change.state == tr.DATASET_STATE_READY, events[-1]
    return stub.GetDataset(pb.GetDatasetRequest(name=dataset.name), metadata=tenant.metadata).dataset


def wait_for_run(stub, tenant, name: str, states=TERMINAL_RUN, timeout: float = 120) -> tr.Run:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = stub.GetRun(pb.GetRunRequest(name=name), metadata=tenant.metadata).run
        if run.state in states:
            return run
        time.sleep(0.2)
    raise AssertionError(f"{name} did not reach {states} in {timeout} s (state {run.state})")


def expect_error(call, code: grpc.StatusCode) -> grpc.RpcError:
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() == code, (error.code(), error.details())
        return error
    raise AssertionError(f"expected {code}")
