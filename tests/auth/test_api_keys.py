"""API keys against the real services: a key made by a tenant acts for it on every
service, shows when it was last used, is refused everywhere soon after it is revoked
or expires, is nobody else's business, and is never stored or shown again."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import sqlalchemy as sa

from tests.plugin import Tenant, TrainingStack, new_tenant, running_training_stack
from tests.upload.helpers import upload_whole
from tsforge.core.api_keys import ApiKeys
from tsforge.core.auth import ApiKeyVerifier, UploadServiceKeyCheck
from tsforge.core.db import Database
from tsforge.core.server import Registration, create_server
from tsforge.core.storage import LocalObjectStore
from tsforge.training.v1 import training_service_pb2 as tpb
from tsforge.upload.v1 import api_keys_pb2 as kpb
from tsforge.upload.v1 import upload_service_pb2 as upb
from tsforge.upload.v1 import upload_service_pb2_grpc as upb_grpc

CACHE_SECONDS = 1  # TSFORGE_API_KEY_CACHE_SECONDS here: a revoked key works at most this long
MAX_KEYS = 3


@pytest.fixture(scope="module")
def stack(db, database_url, tmp_path_factory) -> Iterator[TrainingStack]:
    store = LocalObjectStore(tmp_path_factory.mktemp("keys") / "objects")
    settings = {"api_key_cache_seconds": str(CACHE_SECONDS), "tenant_max_api_keys": str(MAX_KEYS)}
    with running_training_stack(db, database_url, store, workers=0, **settings) as stack:
        yield stack


def _bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def _create(stack, tenant: Tenant, name: str = "ci", **fields) -> kpb.CreateApiKeyResponse:
    request = kpb.CreateApiKeyRequest(api_key=kpb.ApiKey(display_name=name, **fields))
    return stack.upload.stub.CreateApiKey(request, metadata=tenant.metadata, timeout=10)


def _listed(stack, tenant: Tenant) -> list[kpb.ApiKey]:
    return list(stack.upload.stub.ListApiKeys(kpb.ListApiKeysRequest(), metadata=tenant.metadata).api_keys)


def _code(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value


def _until_refused(call, seconds: float) -> tuple[grpc.RpcError, float]:
    started = time.monotonic()
    while True:
        try:
            call()
        except grpc.RpcError as error:
            return error, time.monotonic() - started
        assert time.monotonic() - started < seconds, "the key still works"
        time.sleep(0.05)


def test_a_key_acts_for_its_tenant_on_every_service_until_revoked(stack, tenant):
    uploads, training = stack.upload.stub, stack.stub
    created = _create(stack, tenant, "nightly retraining")
    key, api_key = created.key, created.api_key
    assert key.startswith(api_key.prefix) and api_key.prefix == f"tsf_{api_key.name.split('/')[1]}_"
    assert not api_key.revoked and not api_key.HasField("last_use_time") and not api_key.HasField("expire_time")

    stored = upload_whole(uploads, tenant, b"time;load\n2024-01-01 00:00;1\n2024-01-01 01:00;2\n2024-01-01 02:00;3\n")
    files = uploads.ListFiles(upb.ListFilesRequest(), metadata=_bearer(key)).files
    assert [f.name for f in files] == [stored.name]
    assert list(training.ListSessions(tpb.ListSessionsRequest(), metadata=_bearer(key)).sessions) == []
    caller = uploads.GetCaller(kpb.GetCallerRequest(), metadata=_bearer(key))
    assert (caller.tenant, caller.api_key) == (tenant.name, api_key.name)
    assert uploads.GetCaller(kpb.GetCallerRequest(), metadata=tenant.metadata).api_key == ""

    (listed,) = _listed(stack, tenant)
    assert listed.name == api_key.name and listed.HasField("last_use_time") and not listed.revoked
    assert key not in str(listed) and key[-64:] not in listed.SerializeToString().decode(errors="replace")

    revoked = uploads.RevokeApiKey(kpb.RevokeApiKeyRequest(name=api_key.name), metadata=tenant.metadata).api_key
    again = uploads.RevokeApiKey(kpb.RevokeApiKeyRequest(name=api_key.name), metadata=tenant.metadata).api_key
    assert revoked.revoked and again.revoke_time == revoked.revoke_time  # idempotent
    # The upload process, which revoked it, forgets it at once; the others within the setting.
    error = _code(lambda: uploads.ListFiles(upb.ListFilesRequest(), metadata=_bearer(key)))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in error.details()
    error, waited = _until_refused(
        lambda: training.ListSessions(tpb.ListSessionsRequest(), metadata=_bearer(key)), CACHE_SECONDS + 0.5
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in error.details(), error.details()
    assert waited <= CACHE_SECONDS + 0.5
    assert key[-64:] not in error.details()
    assert _listed(stack, tenant)[0].revoked


def test_another_tenant_neither_sees_nor_revokes_a_key(stack, tenant, other_tenant):
    created = _create(stack, tenant)
    assert _listed(stack, other_tenant) == []
    request = kpb.RevokeApiKeyRequest(name=created.api_key.name)
    error = _code(lambda: stack.upload.stub.RevokeApiKey(request, metadata=other_tenant.metadata))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    # The key still acts for its own tenant only.
    caller = stack.upload.stub.GetCaller(kpb.GetCallerRequest(), metadata=_bearer(created.key))
    assert caller.tenant == tenant.name
    assert not _listed(stack, tenant)[0].revoked


def test_the_database_holds_a_digest_and_the_key_is_shown_once(stack, db, tenant):
    created = _create(stack, tenant)
    secret = created.key.rpartition("_")[2]
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM auth.api_keys WHERE tenant = :t"), {"t": tenant.name}).all()
    (row,) = rows
    assert bytes(row.secret_sha256) == hashlib.sha256(secret.encode()).digest()
    assert all(secret not in str(value) and secret not in repr(value) for value in row)
    assert secret.encode() not in b"".join(k.SerializeToString() for k in _listed(stack, tenant))
    assert not hasattr(kpb.ApiKey(), "key")  # the resource has no field that could carry it


def test_keys_are_made_with_a_token_within_the_tenants_limit(stack, tenant):
    created = _create(stack, tenant)
    key_tenant = Tenant(tenant.name, created.key)
    error = _code(lambda: _create(stack, key_tenant, "minted by a key"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    for bad in ({"display_name": " "}, {"expire_time": _stamp(datetime.now(UTC) - timedelta(minutes=1))}):
        request = kpb.CreateApiKeyRequest(api_key=kpb.ApiKey(**{"display_name": "x", **bad}))
        error = _code(lambda r=request: stack.upload.stub.CreateApiKey(r, metadata=tenant.metadata))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    for _ in range(MAX_KEYS - 1):
        _create(stack, tenant)
    error = _code(lambda: _create(stack, tenant))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "TSFORGE_TENANT_MAX_API_KEYS" in error.details()
    oldest = _listed(stack, tenant)[-1]
    stack.upload.stub.RevokeApiKey(kpb.RevokeApiKeyRequest(name=oldest.name), metadata=tenant.metadata)
    _create(stack, tenant)  # a revoked key no longer counts


def test_an_expired_key_is_refused_everywhere(stack, tenant):
    created = _create(stack, tenant, expire_time=_stamp(datetime.now(UTC) + timedelta(seconds=1)))
    assert created.api_key.HasField("expire_time")
    stack.stub.ListSessions(tpb.ListSessionsRequest(), metadata=_bearer(created.key))  # kept by training now
    time.sleep(max(0.0, created.api_key.expire_time.ToDatetime(tzinfo=UTC).timestamp() - time.time()) + 0.05)
    for call in (
        lambda: stack.stub.ListSessions(tpb.ListSessionsRequest(), metadata=_bearer(created.key)),
        lambda: stack.upload.stub.ListFiles(upb.ListFilesRequest(), metadata=_bearer(created.key)),
    ):
        error = _code(call)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "expired" in error.details()


def test_unknown_and_wrong_secret_keys_are_unauthenticated(stack, tenant):
    created = _create(stack, tenant)
    wrong = created.key[:-4] + ("0000" if not created.key.endswith("0000") else "1111")
    for key in (wrong, "tsf_" + "0" * 16 + "_" + "0" * 64, "tsf_nothex"):
        for call in (
            lambda k=key: stack.upload.stub.ListFiles(upb.ListFilesRequest(), metadata=_bearer(k)),
            lambda k=key: stack.stub.ListSessions(tpb.ListSessionsRequest(), metadata=_bearer(k)),
        ):
            error = _code(call)
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, (key, error)
            assert created.key[-64:] not in error.details()


def _stamp(value: datetime):
    from google.protobuf.timestamp_pb2 import Timestamp

    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def test_a_key_that_cannot_be_checked_is_unavailable_not_refused(stack, tenant):
    key = _create(stack, tenant).key
    from services.upload.server import DEFINITION
    from services.upload.servicer import UploadServicer
    from tests.plugin import JWT_SECRET

    # The upload service's own check with its database gone, and another service's
    # check with the upload service gone: both UNAVAILABLE, neither "a bad key".
    gone = Database("postgresql://postgres@127.0.0.1:1/none")
    keys = ApiKeys(gone, MAX_KEYS)
    remote = UploadServiceKeyCheck("127.0.0.1:1", timeout=1.0)
    verifiers = (ApiKeyVerifier(keys.check, 5.0), ApiKeyVerifier(remote, 5.0, close=remote.close))
    for verifier in verifiers:
        server = create_server(
            [Registration(DEFINITION.descriptor, UploadServicer(None, None, keys))],  # only the keys are used
            "127.0.0.1:0",
            jwt_secret=JWT_SECRET,
            max_message_bytes=8 << 20,
            threads=2,
            api_keys=verifier,
        )
        try:
            with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
                stub = upb_grpc.UploadServiceStub(channel)
                error = _code(lambda s=stub: s.GetCaller(kpb.GetCallerRequest(), metadata=_bearer(key), timeout=10))
                assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
        finally:
            server.stop(0)
    gone.dispose()


def test_pages_of_keys(stack):
    tenant = new_tenant()
    names = [_create(stack, tenant, f"key {i}").api_key.name for i in range(MAX_KEYS)]
    first = stack.upload.stub.ListApiKeys(kpb.ListApiKeysRequest(page_size=2), metadata=tenant.metadata)
    rest = stack.upload.stub.ListApiKeys(
        kpb.ListApiKeysRequest(page_size=2, page_token=first.next_page_token), metadata=tenant.metadata
    )
    assert [k.name for k in (*first.api_keys, *rest.api_keys)] == names[::-1] and not rest.next_page_token


def test_the_cli_creates_lists_and_revokes_keys(stack, tenant):
    from click.testing import CliRunner

    from tsforge.cli.main import cli

    env = {**stack.env, "TSFORGE_TOKEN": tenant.token}
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "from the cli", "--expires-in", "30"], env=env)
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("tsf_") and "\n" not in key and "not shown again" in created.stderr
    listed = runner.invoke(cli, ["keys", "list"], env={**env, "TSFORGE_TOKEN": key})  # a key lists its tenant's
    assert listed.exit_code == 0 and "from the cli" in listed.output and key[-64:] not in listed.output
    minted = runner.invoke(cli, ["keys", "create", "minted"], env={**env, "TSFORGE_TOKEN": key})
    assert minted.exit_code == 1 and "PERMISSION_DENIED" in minted.output
    revoked = runner.invoke(cli, ["keys", "revoke", key[: len("tsf_") + 17]], env=env)  # by its prefix
    assert revoked.exit_code == 0 and "revoked apiKeys/" in revoked.output, revoked.output
    refused = runner.invoke(cli, ["files"], env={**env, "TSFORGE_TOKEN": key})
    assert refused.exit_code == 1 and "UNAUTHENTICATED" in refused.output and "revoked" in refused.output
