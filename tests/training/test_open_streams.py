"""Open streams cost no thread: a thousand waiting watches and idle reflection streams
leave the service answering every other tenant, and one tenant cannot open more than
its share."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.plugin import new_tenant, running_training_stack
from tests.training.helpers import create_session, small_spec, upload_pair
from tests.upload.helpers import status_details
from tsforge.core.channels import client_channel
from tsforge.core.storage import LocalObjectStore
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb
from tsforge.training.v1 import training_service_pb2_grpc as pb_grpc

TENANTS = 9
STREAMS_PER_TENANT = 100  # the per-tenant limit below: each tenant opens exactly its share
REFLECTION_STREAMS = 100  # unauthenticated, idle


@pytest.fixture(scope="module")
def stack(db, database_url, tmp_path_factory):
    # No worker: dataset builds stay QUEUED, so their watches wait for as long as we like.
    store = LocalObjectStore(tmp_path_factory.mktemp("data") / "objects")
    with running_training_stack(
        db, database_url, store, workers=0, server_threads="8", tenant_max_streams=str(STREAMS_PER_TENANT)
    ) as running:
        yield running


def _queued_dataset(stack, tenant) -> tr.Dataset:
    session = create_session(stack.stub, tenant, small_spec(*upload_pair(stack.upload.stub, tenant, hours=48)))
    return stack.stub.BuildDataset(pb.BuildDatasetRequest(parent=session.name), metadata=tenant.metadata).dataset


def test_a_thousand_open_streams_leave_other_tenants_served(stack):
    channels = [client_channel(stack.address) for _ in range(10)]
    calls, stop = [], threading.Event()
    try:
        for number in range(TENANTS):
            tenant = new_tenant()
            dataset = _queued_dataset(stack, tenant)
            stub = pb_grpc.TrainingServiceStub(channels[number % len(channels)])
            for _ in range(STREAMS_PER_TENANT):
                call = stub.WatchDatasetBuild(
                    pb.WatchDatasetBuildRequest(name=dataset.name), metadata=tenant.metadata, timeout=300
                )
                assert next(call).event.state_change.state == tr.DATASET_STATE_QUEUED  # served, now waiting
                calls.append(call)
            # One more stream of the same tenant is over its share.
            extra = stub.WatchDatasetBuild(pb.WatchDatasetBuildRequest(name=dataset.name), metadata=tenant.metadata)
            with pytest.raises(grpc.RpcError) as refused:
                next(extra)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            (quota,) = status_details(refused.value, error_details_pb2.QuotaFailure)
            assert quota.violations[0].subject == "tenant:open_streams"

        def idle_requests():
            yield reflection_pb2.ServerReflectionRequest(list_services="")
            stop.wait()  # the stream stays open, sending nothing more

        for number in range(REFLECTION_STREAMS):
            reflect = reflection_pb2_grpc.ServerReflectionStub(channels[number % len(channels)])
            call = reflect.ServerReflectionInfo(idle_requests(), timeout=300)  # no token: reflection is open
            assert next(call).list_services_response.service
            calls.append(call)
        assert len(calls) == TENANTS * STREAMS_PER_TENANT + REFLECTION_STREAMS == 1_000

        # Another tenant's unary calls, on a fresh channel, still answer (8 server threads).
        other = new_tenant()
        session = create_session(stack.stub, other, small_spec(*upload_pair(stack.upload.stub, other, hours=48)))
        started = time.monotonic()
        for _ in range(20):
            got = stack.stub.GetSession(pb.GetSessionRequest(name=session.name), metadata=other.metadata, timeout=5)
            assert got.session.name == session.name
        assert time.monotonic() - started < 20
        # And its watches are not limited by the others' streams.
        dataset = stack.stub.BuildDataset(pb.BuildDatasetRequest(parent=session.name), metadata=other.metadata)
        own = stack.stub.WatchDatasetBuild(
            pb.WatchDatasetBuildRequest(name=dataset.dataset.name), metadata=other.metadata, timeout=30
        )
        assert next(own).event.state_change.state == tr.DATASET_STATE_QUEUED
        own.cancel()
    finally:
        stop.set()
        for call in calls:
            call.cancel()
        for channel in channels:
            channel.close()
