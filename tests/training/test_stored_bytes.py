"""Datasets and run artifacts count against the tenant's byte quota (issue 11 §2): the
ledger holds exactly the bytes the store holds for the tenant, deleting gives them back,
and a build or run that would go over the quota is refused or fails, leaving nothing."""

from __future__ import annotations

import grpc
import sqlalchemy as sa
from google.rpc import error_details_pb2

from tests.training.helpers import (
    build_ready_dataset,
    create_session,
    expect_error,
    small_spec,
    upload_pair,
    wait_for_run,
)
from tests.upload.helpers import status_details
from tsforge.core import usage
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb

QUOTA = 10 << 30  # the stack's default TSFORGE_TENANT_QUOTA_BYTES
FILLER = "test-filler"  # a ledger owner standing for bytes stored elsewhere
LINEAR = tr.ModelSpec(linear_regression=tr.LinearRegressionParams())


def _ledger(db, tenant) -> dict[str, int]:
    with db.transaction() as session:
        rows = session.execute(
            sa.text("SELECT owner, bytes FROM accounting.stored_bytes WHERE tenant = :tenant AND owner != :filler"),
            {"tenant": tenant.name, "filler": FILLER},
        )
        return {owner: size for owner, size in rows}


def _stored(store, prefix: str) -> int:
    return sum(store.size(key) for key in store.list(prefix))


def _store_bytes(store, tenant) -> dict[str, int]:
    return {
        "upload": _stored(store, f"files/{tenant.name}/"),
        "training": _stored(store, f"datasets/{tenant.name}/") + _stored(store, f"runs/{tenant.name}/"),
    }


def _fill(db, tenant, room: int) -> None:
    """Leaves the tenant `room` bytes of its quota, as if another service stored the rest."""
    with db.transaction() as session:
        usage.record(session, tenant.name, FILLER, QUOTA - usage.others(session, tenant.name, FILLER) - room)


def _run(stack, tenant, dataset) -> tr.Run:
    run = tr.Run(dataset=dataset.name, model_specs=[LINEAR])
    return stack.stub.CreateRun(pb.CreateRunRequest(run=run), metadata=tenant.metadata).run


def _quota_violation(error) -> error_details_pb2.QuotaFailure.Violation:
    [quota] = status_details(error, error_details_pb2.QuotaFailure)
    [violation] = quota.violations
    return violation


def test_the_ledger_holds_what_the_store_holds_and_deleting_gives_it_back(training_stack, db, tenant):
    stack = training_stack
    session = create_session(stack.stub, tenant, small_spec(*upload_pair(stack.upload.stub, tenant)))
    dataset = build_ready_dataset(stack.stub, tenant, session)
    after_build = _store_bytes(stack.store, tenant)
    assert _ledger(db, tenant) == after_build
    assert after_build["training"] == sum(o.object.size_bytes for o in dataset.objects) > 0

    run = wait_for_run(stack.stub, tenant, _run(stack, tenant, dataset).name)
    assert run.state == tr.RUN_STATE_SUCCEEDED, run.failure_reason
    stored = _store_bytes(stack.store, tenant)
    assert _ledger(db, tenant) == stored
    assert stored["training"] > after_build["training"]
    print(f"\nstored for the tenant: {stored} (dataset alone {after_build['training']} bytes)")

    stack.stub.DeleteSession(pb.DeleteSessionRequest(name=session.name, force=True), metadata=tenant.metadata)
    assert _store_bytes(stack.store, tenant) == {"upload": stored["upload"], "training": 0}
    assert _ledger(db, tenant) == {"upload": stored["upload"], "training": 0}


def test_work_past_the_quota_is_refused_or_fails_and_leaves_nothing(training_stack, db, tenant):
    stack = training_stack
    session = create_session(stack.stub, tenant, small_spec(*upload_pair(stack.upload.stub, tenant)))
    dataset = build_ready_dataset(stack.stub, tenant, session)
    dataset_bytes = _store_bytes(stack.store, tenant)["training"]

    # Room for less than any object: the work is queued, and fails when it would store.
    _fill(db, tenant, room=10)
    run = wait_for_run(stack.stub, tenant, _run(stack, tenant, dataset).name)
    assert run.state == tr.RUN_STATE_FAILED
    assert "TSFORGE_TENANT_QUOTA_BYTES" in run.failure_reason, run.failure_reason
    events = [
        r.event for r in stack.stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata, timeout=30)
    ]
    assert [e.error.code for e in events if e.HasField("error")] == ["RESOURCE_EXHAUSTED"]
    assert events[-1].state_change.reason == run.failure_reason
    assert not run.models[0].HasField("artifact") and not run.models[0].predictions
    assert list(stack.store.list(f"runs/{tenant.name}/")) == []

    failed = stack.stub.BuildDataset(pb.BuildDatasetRequest(parent=session.name), metadata=tenant.metadata).dataset
    build_events = [
        r.event
        for r in stack.stub.WatchDatasetBuild(
            pb.WatchDatasetBuildRequest(name=failed.name), metadata=tenant.metadata, timeout=60
        )
    ]
    assert build_events[-1].state_change.state == tr.DATASET_STATE_FAILED
    assert "TSFORGE_TENANT_QUOTA_BYTES" in build_events[-1].state_change.reason
    assert [e.error.code for e in build_events if e.HasField("error")] == ["RESOURCE_EXHAUSTED"]
    assert list(stack.store.list(f"datasets/{tenant.name}/{failed.name.rsplit('/', 1)[1]}/")) == []
    assert _store_bytes(stack.store, tenant)["training"] == dataset_bytes == _ledger(db, tenant)["training"]

    # A full quota: the RPCs refuse at once, and nothing is queued.
    _fill(db, tenant, room=0)
    for call in (
        lambda: stack.stub.BuildDataset(pb.BuildDatasetRequest(parent=session.name), metadata=tenant.metadata),
        lambda: _run(stack, tenant, dataset),
    ):
        violation = _quota_violation(expect_error(call, grpc.StatusCode.RESOURCE_EXHAUSTED))
        assert violation.subject == "tenant:stored_bytes"
        assert "TSFORGE_TENANT_QUOTA_BYTES" in violation.description
    datasets = stack.stub.ListDatasets(pb.ListDatasetsRequest(parent=session.name), metadata=tenant.metadata)
    assert len(datasets.datasets) == 2
    runs = stack.stub.ListRuns(pb.ListRunsRequest(session=session.name), metadata=tenant.metadata)
    assert [r.name for r in runs.runs] == [run.name]
