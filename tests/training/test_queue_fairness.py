"""The queue is shared fairly: tenants take turns with one worker, and one tenant's
queued builds are capped."""

from __future__ import annotations

import time

import grpc
import pytest
from google.rpc import error_details_pb2

from tests.plugin import new_tenant, running_training_stack
from tests.training.helpers import create_session, small_spec, upload_pair
from tests.upload.helpers import status_details
from tsforge.core.storage import LocalObjectStore
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb


def _build(stack, tenant, session) -> tr.Dataset:
    return stack.stub.BuildDataset(pb.BuildDatasetRequest(parent=session.name), metadata=tenant.metadata).dataset


def _wait_ready(stack, tenant, names: list[str], timeout: float = 240) -> list[tr.Dataset]:
    deadline = time.monotonic() + timeout
    while True:
        datasets = [
            stack.stub.GetDataset(pb.GetDatasetRequest(name=name), metadata=tenant.metadata).dataset for name in names
        ]
        if all(d.state == tr.DATASET_STATE_READY for d in datasets):
            return datasets
        assert time.monotonic() < deadline, [tr.DatasetState.Name(d.state) for d in datasets]
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack(db, database_url, tmp_path_factory):
    # No worker yet: the queue fills first, then one worker drains it.
    store = LocalObjectStore(tmp_path_factory.mktemp("data") / "objects")
    with running_training_stack(db, database_url, store, workers=0, tenant_max_active_builds="5") as running:
        yield running


def test_tenants_take_turns_and_a_busy_tenant_cannot_starve_another(stack, db, database_url):
    busy, other = new_tenant(), new_tenant()
    busy_session = create_session(stack.stub, busy, small_spec(*upload_pair(stack.upload.stub, busy, hours=48)))
    other_session = create_session(stack.stub, other, small_spec(*upload_pair(stack.upload.stub, other, hours=48)))
    queued = [_build(stack, busy, busy_session).name for _ in range(5)]  # the busy tenant's whole share
    late = _build(stack, other, other_session).name  # queued after all of them
    with pytest.raises(grpc.RpcError) as refused:
        _build(stack, busy, busy_session)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    [quota] = status_details(refused.value, error_details_pb2.QuotaFailure)
    assert quota.violations[0].subject == "tenant:active_builds"

    with running_training_stack(db, database_url, stack.store, workers=1):  # one worker drains the queue
        busy_done = _wait_ready(stack, busy, queued)
        [other_done] = _wait_ready(stack, other, [late])
    starts = sorted(d.start_time.ToDatetime() for d in busy_done)
    # FIFO would build the other tenant's dataset last; taking turns, it comes second.
    assert starts[0] < other_done.start_time.ToDatetime() < starts[1]
