"""Registered versions' copies count against the tenant's byte quota (issue 11 §2): the
ledger holds what the store holds under models/{tenant}/, deleting a version gives it
back, and a registration that would go over the quota is refused, leaving nothing."""

from __future__ import annotations

import uuid

import grpc
import sqlalchemy as sa
from google.rpc import error_details_pb2

from tests.models.helpers import register
from tests.training.helpers import expect_error
from tests.upload.helpers import status_details
from tsforge.core import usage
from tsforge.models.v1 import models_service_pb2 as pb

QUOTA = 10 << 30  # the stack's default TSFORGE_TENANT_QUOTA_BYTES
FILLER = "test-filler"  # a ledger owner standing for bytes stored elsewhere


def _ledger(db, tenant) -> dict[str, int]:
    with db.transaction() as session:
        rows = session.execute(
            sa.text("SELECT owner, bytes FROM accounting.stored_bytes WHERE tenant = :tenant"), {"tenant": tenant.name}
        )
        return {owner: size for owner, size in rows}


def _stored(store, tenant) -> int:
    return sum(store.size(key) for key in store.list(f"models/{tenant.name}/"))


def test_version_copies_are_counted_and_given_back(models_stack, db):
    stack, tenant = models_stack, models_stack.tenant
    store = stack.training.store
    before = _stored(store, tenant)
    version = register(stack.stub, tenant, f"bytes-{uuid.uuid4().hex[:8]}", stack.model("linear"))
    copies = _stored(store, tenant) - before
    assert copies > 0
    assert _ledger(db, tenant)["models"] == _stored(store, tenant)
    stack.stub.DeleteModelVersion(pb.DeleteModelVersionRequest(name=version.name), metadata=tenant.metadata)
    assert _stored(store, tenant) == before == _ledger(db, tenant)["models"]


def test_a_registration_past_the_quota_is_refused_and_leaves_nothing(models_stack, db):
    stack, tenant = models_stack, models_stack.tenant
    store = stack.training.store
    model = f"full-{uuid.uuid4().hex[:8]}"
    before = sorted(store.list(f"models/{tenant.name}/"))
    with db.transaction() as session:
        usage.record(session, tenant.name, FILLER, QUOTA - usage.others(session, tenant.name, FILLER) - 10)
    try:
        error = expect_error(
            lambda: register(stack.stub, tenant, model, stack.model("linear")), grpc.StatusCode.RESOURCE_EXHAUSTED
        )
        [quota] = status_details(error, error_details_pb2.QuotaFailure)
        [violation] = quota.violations
        assert violation.subject == "tenant:stored_bytes"
        assert "TSFORGE_TENANT_QUOTA_BYTES" in violation.description
    finally:
        with db.transaction() as session:
            usage.record(session, tenant.name, FILLER, 0)
    assert sorted(store.list(f"models/{tenant.name}/")) == before
    expect_error(
        lambda: stack.stub.GetRegisteredModel(
            pb.GetRegisteredModelRequest(name=f"registeredModels/{model}"), metadata=tenant.metadata
        ),
        grpc.StatusCode.NOT_FOUND,
    )


def test_start_up_writes_versions_of_before_into_the_ledger(models_stack, db):
    """Versions stored before their bytes were counted (an upgrade), or a ledger that
    drifted: the models service's start-up resync makes the ledger exact again, and
    registrations then add to it."""
    stack, tenant = models_stack, models_stack.tenant
    store = stack.training.store
    register(stack.stub, tenant, f"resync-{uuid.uuid4().hex[:8]}", stack.model("linear"))
    with db.transaction() as session:
        session.execute(
            sa.text("DELETE FROM accounting.stored_bytes WHERE tenant = :tenant AND owner = 'models'"),
            {"tenant": tenant.name},
        )
    assert "models" not in _ledger(db, tenant)
    assert stack.server.repository.resync_usage() >= 1
    assert _ledger(db, tenant)["models"] == _stored(store, tenant)
    register(stack.stub, tenant, f"resync-{uuid.uuid4().hex[:8]}", stack.model("linear"))
    assert _ledger(db, tenant)["models"] == _stored(store, tenant)
