"""Runs under stress: cancelled, their worker killed, watched across reconnects and
replicas, and kept from other tenants."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import grpc
import pytest
from google.rpc import error_details_pb2

from tests.plugin import running_training_stack
from tests.training.helpers import (
    build_ready_dataset,
    create_session,
    expect_error,
    small_spec,
    upload_pair,
    wait_for_run,
)
from tests.upload.helpers import status_details
from tsforge.common.v1 import common_pb2
from tsforge.core.channels import client_channel
from tsforge.core.storage import LocalObjectStore
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb
from tsforge.training.v1 import training_service_pb2_grpc as pb_grpc

LONG_DENSE = tr.ModelSpec(
    model_id="long",
    dense=tr.DenseParams(
        neural=tr.NeuralParams(layers=1, units=4, epochs=2000, early_stopping_patience=2000, batch_size=4)
    ),
)


@pytest.fixture(scope="module")
def stack(db, database_url, tmp_path_factory):
    store = LocalObjectStore(tmp_path_factory.mktemp("data") / "objects")
    with running_training_stack(
        db, database_url, store, worker_lost_seconds="3", tenant_max_active_runs="2"
    ) as running:
        yield running


@pytest.fixture(scope="module")
def ready(stack):
    """A tenant with a READY dataset."""
    from tests.plugin import new_tenant

    tenant = new_tenant()
    session = create_session(stack.stub, tenant, small_spec(*upload_pair(stack.upload.stub, tenant)))
    return tenant, session, build_ready_dataset(stack.stub, tenant, session)


def _start(stack, tenant, dataset, *specs) -> tr.Run:
    return stack.stub.CreateRun(
        pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=list(specs))), metadata=tenant.metadata
    ).run


def _first_epoch(stack, tenant, run) -> list[tr.RunEvent]:
    seen = []
    for response in stack.stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata, timeout=120):
        seen.append(response.event)
        if response.event.WhichOneof("event") == "epoch_end":
            return seen
    raise AssertionError(f"the run ended before an epoch: {seen[-1]}")


def test_cancel_stops_a_running_model_and_a_queued_run_at_once(stack, ready):
    tenant, _, dataset = ready
    run = _start(stack, tenant, dataset, LONG_DENSE, tr.ModelSpec(linear_regression={}))
    _first_epoch(stack, tenant, run)
    cancelled = stack.stub.CancelRun(pb.CancelRunRequest(name=run.name), metadata=tenant.metadata).run
    assert cancelled.state in (tr.RUN_STATE_RUNNING, tr.RUN_STATE_CANCELLED)
    done = wait_for_run(stack.stub, tenant, run.name, timeout=30)
    assert done.state == tr.RUN_STATE_CANCELLED
    assert [m.state for m in done.models] == [tr.MODEL_STATE_CANCELLED, tr.MODEL_STATE_CANCELLED]
    again = stack.stub.CancelRun(pb.CancelRunRequest(name=run.name), metadata=tenant.metadata).run
    assert again.state == tr.RUN_STATE_CANCELLED


def test_a_killed_worker_ends_its_run_failed_and_a_new_worker_carries_on(stack, ready, db, database_url):
    tenant, _, dataset = ready
    run = _start(stack, tenant, dataset, LONG_DENSE)
    _first_epoch(stack, tenant, run)
    os.kill(_worker_pid(db, run), signal.SIGKILL)
    failed = wait_for_run(stack.stub, tenant, run.name, timeout=30)
    assert failed.state == tr.RUN_STATE_FAILED and "worker lost" in failed.failure_reason
    events = [
        r.event for r in stack.stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata, timeout=10)
    ]
    assert events[-1].state_change.state == tr.RUN_STATE_FAILED
    after = _start(stack, tenant, dataset, tr.ModelSpec(linear_regression={}))
    assert wait_for_run(stack.stub, tenant, after.name, timeout=60).state == tr.RUN_STATE_SUCCEEDED


def _worker_pid(db, run) -> int:
    from services.training.rows import RunRow

    with db.transaction() as session:
        worker_id = session.get(RunRow, run.name.split("/")[1]).worker_id
    return int(worker_id.split(":")[1])


def test_reconnecting_with_the_last_sequence_misses_nothing_and_repeats_nothing(stack, ready):
    tenant, _, dataset = ready
    run = _start(
        stack, tenant, dataset, tr.ModelSpec(dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=4, epochs=5)))
    )
    first = []
    stream = stack.stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata, timeout=120)
    for response in stream:
        first.append(response.event)
        if len(first) == 3:
            stream.cancel()  # the client drops
            break
    rest = [
        r.event
        for r in stack.stub.WatchRun(
            pb.WatchRunRequest(name=run.name, after_sequence=3), metadata=tenant.metadata, timeout=120
        )
    ]
    sequences = [e.sequence for e in first + rest]
    assert sequences == list(range(1, len(sequences) + 1))
    assert rest[-1].state_change.state == tr.RUN_STATE_SUCCEEDED
    replay = [r.event for r in stack.stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata)]
    assert replay == first + rest
    # A watcher that already saw the last event of the finished run is done at once.
    last = sequences[-1]
    for after in (last, last + 5):
        request = pb.WatchRunRequest(name=run.name, after_sequence=after)
        assert list(stack.stub.WatchRun(request, metadata=tenant.metadata, timeout=10)) == []
    build = pb.WatchDatasetBuildRequest(name=dataset.name, after_sequence=10_000)
    assert list(stack.stub.WatchDatasetBuild(build, metadata=tenant.metadata, timeout=10)) == []


def test_a_watcher_on_another_replica_process_sees_the_workers_events(stack, ready, database_url, tmp_path):
    """A second training service, in a process of its own (`tsforge up --only training
    --workers 0`), serves the watcher; the worker of the first stack produces the events."""
    tenant, _, dataset = ready
    port = _free_port()
    env = {
        **stack.env,
        "TSFORGE_DATABASE_URL": database_url,
        "TSFORGE_TRAINING_PORT": str(port),
        "TSFORGE_DATA_DIR": str(tmp_path),
    }
    replica = subprocess.Popen(
        [sys.executable, "-m", "tsforge.cli", "up", "--only", "training", "--workers", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        channel = client_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=60)
        stub = pb_grpc.TrainingServiceStub(channel)
        run = _start(
            stack,
            tenant,
            dataset,
            tr.ModelSpec(dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=4, epochs=3))),
        )
        events = [
            r.event for r in stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata, timeout=120)
        ]
        assert [e.WhichOneof("event") for e in events].count("epoch_end") == 3
        assert events[-1].state_change.state == tr.RUN_STATE_SUCCEEDED
        channel.close()
    finally:
        replica.send_signal(signal.SIGTERM)
        try:
            assert replica.wait(timeout=30) == 0, replica.stdout.read()
        finally:
            if replica.poll() is None:
                replica.kill()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_concurrent_run_quota_is_resource_exhausted(stack, ready):
    tenant, _, dataset = ready
    runs = [_start(stack, tenant, dataset, LONG_DENSE) for _ in range(2)]
    try:
        error = expect_error(lambda: _start(stack, tenant, dataset, LONG_DENSE), grpc.StatusCode.RESOURCE_EXHAUSTED)
        [quota] = status_details(error, error_details_pb2.QuotaFailure)
        assert quota.violations[0].subject == "tenant:active_runs"
    finally:
        for run in runs:
            stack.stub.CancelRun(pb.CancelRunRequest(name=run.name), metadata=tenant.metadata)
        for run in runs:
            wait_for_run(stack.stub, tenant, run.name, timeout=30)


def test_another_tenants_training_resources_are_not_found(stack, ready, other_tenant):
    tenant, session, dataset = ready
    run = _start(stack, tenant, dataset, tr.ModelSpec(linear_regression={}))
    wait_for_run(stack.stub, tenant, run.name)
    model = f"{run.name}/models/model-1"
    stub, them = stack.stub, other_tenant.metadata
    calls = {
        "GetSession": lambda: stub.GetSession(pb.GetSessionRequest(name=session.name), metadata=them),
        "UpdateSession": lambda: stub.UpdateSession(
            pb.UpdateSessionRequest(
                session=tr.Session(name=session.name, display_name="x"), update_mask={"paths": ["display_name"]}
            ),
            metadata=them,
        ),
        "DeleteSession": lambda: stub.DeleteSession(
            pb.DeleteSessionRequest(name=session.name, force=True), metadata=them
        ),
        "BuildDataset": lambda: stub.BuildDataset(pb.BuildDatasetRequest(parent=session.name), metadata=them),
        "GetDataset": lambda: stub.GetDataset(pb.GetDatasetRequest(name=dataset.name), metadata=them),
        "ListDatasets": lambda: stub.ListDatasets(pb.ListDatasetsRequest(parent=session.name), metadata=them),
        "WatchDatasetBuild": lambda: list(
            stub.WatchDatasetBuild(pb.WatchDatasetBuildRequest(name=dataset.name), metadata=them)
        ),
        "DownloadDatasetObject": lambda: list(
            stub.DownloadDatasetObject(
                pb.DownloadDatasetObjectRequest(name=dataset.name, object_id="scalers"), metadata=them
            )
        ),
        "CreateRun": lambda: _start(stack, other_tenant, dataset, tr.ModelSpec(linear_regression={})),
        "GetRun": lambda: stub.GetRun(pb.GetRunRequest(name=run.name), metadata=them),
        "CancelRun": lambda: stub.CancelRun(pb.CancelRunRequest(name=run.name), metadata=them),
        "WatchRun": lambda: list(stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=them)),
        "ReadPredictions": lambda: list(
            stub.ReadPredictions(pb.ReadPredictionsRequest(name=model, split=common_pb2.DATA_SPLIT_TEST), metadata=them)
        ),
        "DownloadModelArtifact": lambda: list(
            stub.DownloadModelArtifact(pb.DownloadModelArtifactRequest(name=model), metadata=them)
        ),
    }
    for rpc, call in calls.items():
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND, rpc
    assert stub.ListSessions(pb.ListSessionsRequest(), metadata=them).sessions == []
    assert stub.ListRuns(pb.ListRunsRequest(), metadata=them).runs == []
    assert stub.GetRun(pb.GetRunRequest(name=run.name), metadata=tenant.metadata).run.state == tr.RUN_STATE_SUCCEEDED
