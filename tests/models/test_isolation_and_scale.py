"""Tenant isolation on every RPC, concurrent alias moves and registrations, and lists
that stay fast with 5,000 versions."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
from google.protobuf import field_mask_pb2

from tests.models.helpers import download, register
from tests.models.test_registry import _fake_version
from tests.plugin import new_tenant
from tests.training.helpers import expect_error
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.models.v1 import models_service_pb2 as pb


def test_another_tenant_sees_nothing_on_any_rpc(models_stack):
    stack, owner, other = models_stack, models_stack.tenant, new_tenant()
    model = f"i-{uuid.uuid4().hex[:8]}"
    parent = f"registeredModels/{model}"
    register(stack.stub, owner, model, stack.model("linear"))
    stack.stub.SetAlias(pb.SetAliasRequest(name=parent, alias="production", version=1), metadata=owner.metadata)
    temperature, _ = stack.files
    s, md = stack.stub, other.metadata
    calls = {
        "RegisterModelVersion": lambda: register(s, other, model, stack.model("linear")),
        "GetRegisteredModel": lambda: s.GetRegisteredModel(pb.GetRegisteredModelRequest(name=parent), metadata=md),
        "UpdateRegisteredModel": lambda: s.UpdateRegisteredModel(
            pb.UpdateRegisteredModelRequest(
                registered_model=mr.RegisteredModel(name=parent),
                update_mask=field_mask_pb2.FieldMask(paths=["description"]),
            ),
            metadata=md,
        ),
        "DeleteRegisteredModel": lambda: s.DeleteRegisteredModel(
            pb.DeleteRegisteredModelRequest(name=parent, force=True), metadata=md
        ),
        "GetModelVersion": lambda: s.GetModelVersion(
            pb.GetModelVersionRequest(name=f"{parent}/versions/1"), metadata=md
        ),
        "GetModelVersion@alias": lambda: s.GetModelVersion(
            pb.GetModelVersionRequest(name=f"{parent}@production"), metadata=md
        ),
        "ListModelVersions": lambda: s.ListModelVersions(pb.ListModelVersionsRequest(parent=parent), metadata=md),
        "UpdateModelVersion": lambda: s.UpdateModelVersion(
            pb.UpdateModelVersionRequest(
                model_version=mr.ModelVersion(name=f"{parent}/versions/1"),
                update_mask=field_mask_pb2.FieldMask(paths=["tags"]),
            ),
            metadata=md,
        ),
        "DeleteModelVersion": lambda: s.DeleteModelVersion(
            pb.DeleteModelVersionRequest(name=f"{parent}/versions/1"), metadata=md
        ),
        "SetAlias": lambda: s.SetAlias(pb.SetAliasRequest(name=parent, alias="staging", version=1), metadata=md),
        "DeleteAlias": lambda: s.DeleteAlias(pb.DeleteAliasRequest(name=parent, alias="production"), metadata=md),
        "DownloadModelVersion": lambda: download(s, other, f"{parent}/versions/1"),
        "Predict": lambda: s.Predict(
            pb.PredictRequest(
                name=f"{parent}@production",
                files=pb.FileInputs(inputs=[pb.FileInput(feature="temperature", file=temperature)]),
            ),
            metadata=md,
        ),
    }
    for call in calls.values():  # RegisterModelVersion: the owner's run is not the other tenant's either
        expect_error(call, grpc.StatusCode.NOT_FOUND)
    assert not s.ListRegisteredModels(pb.ListRegisteredModelsRequest(name_prefix=model), metadata=md).registered_models
    # The owner's model is untouched, alias included.
    owned = s.GetRegisteredModel(pb.GetRegisteredModelRequest(name=parent), metadata=owner.metadata).registered_model
    assert dict(owned.aliases) == {"production": 1} and owned.latest_version == 1
    expect_error(
        lambda: s.GetRegisteredModel(pb.GetRegisteredModelRequest(name=parent)), grpc.StatusCode.UNAUTHENTICATED
    )


def test_concurrent_alias_moves_and_registrations(models_stack):
    stack, tenant = models_stack, models_stack.tenant
    model = f"c-{uuid.uuid4().hex[:8]}"
    parent = f"registeredModels/{model}"
    with ThreadPoolExecutor(8) as pool:
        numbers = sorted(
            pool.map(lambda _: register(stack.stub, tenant, model, stack.model("linear")).version, range(8))
        )
    assert numbers == list(range(1, 9))  # none lost, none doubled
    moves_per_thread = 15
    barrier = threading.Barrier(8)

    def mover(thread: int) -> list[int]:
        barrier.wait()
        done = []
        for move in range(moves_per_thread):
            version = (thread + move) % 8 + 1
            stack.stub.SetAlias(
                pb.SetAliasRequest(name=parent, alias="production", version=version), metadata=tenant.metadata
            )
            stack.stub.SetAlias(
                pb.SetAliasRequest(name=parent, alias=f"mine-{thread}", version=version), metadata=tenant.metadata
            )
            done.append(version)
        return done

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(mover, range(8)))
    final = stack.stub.GetRegisteredModel(
        pb.GetRegisteredModelRequest(name=parent), metadata=tenant.metadata
    ).registered_model
    # Each thread's own alias ends where its last move put it; the shared one at some
    # thread's last move.
    assert {f"mine-{t}": moves[-1] for t, moves in enumerate(results)}.items() <= dict(final.aliases).items()
    assert final.aliases["production"] in {moves[-1] for moves in results}
    # Every version still has its artifacts.
    for version in stack.stub.ListModelVersions(
        pb.ListModelVersionsRequest(parent=parent), metadata=tenant.metadata
    ).model_versions:
        assert stack.server.objects._store.exists(version.bundle.key)


def test_listing_stays_fast_with_5000_versions(models_stack):
    stack, tenant = models_stack, new_tenant()
    model = "many"
    stack.server.repository.register_many(tenant.name, model, "", [_fake_version() for _ in range(5000)])
    stack.stub.SetAlias(
        pb.SetAliasRequest(name=f"registeredModels/{model}", alias="production", version=17), metadata=tenant.metadata
    )
    request = pb.ListModelVersionsRequest(parent=f"registeredModels/{model}")
    stack.stub.ListModelVersions(request, metadata=tenant.metadata)
    timings = []
    for _ in range(10):
        started = time.perf_counter()
        first = stack.stub.ListModelVersions(request, metadata=tenant.metadata)
        timings.append(time.perf_counter() - started)
    assert [v.version for v in first.model_versions] == list(range(5000, 4950, -1))
    assert sorted(timings)[5] < 0.1, timings  # goal 20 ms; generous for a loaded CI machine
    seen, token = [], ""
    while True:
        page = stack.stub.ListModelVersions(
            pb.ListModelVersionsRequest(parent=f"registeredModels/{model}", page_size=1000, page_token=token),
            metadata=tenant.metadata,
        )
        seen += [v.version for v in page.model_versions]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(range(5000, 0, -1))
    got = stack.stub.GetModelVersion(
        pb.GetModelVersionRequest(name=f"registeredModels/{model}@production"), metadata=tenant.metadata
    ).model_version
    assert got.version == 17 and list(got.aliases) == ["production"]
