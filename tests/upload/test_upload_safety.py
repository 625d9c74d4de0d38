"""What must never go wrong with uploads: bad files, quotas, other tenants, lost
connections, abandoned uploads. Each failure leaves no row and no object behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from services.upload import repository as repo
from tests.plugin import running_upload_service
from tests.upload.helpers import (
    create_upload,
    csv_bytes,
    download,
    field_violations,
    send_chunks,
    sha256,
    status_details,
    stream_upload,
    tenant_objects,
    upload_whole,
)
from tsforge.client.uploads import upload as client_upload
from tsforge.common.v1 import common_pb2
from tsforge.core.channels import client_channel
from tsforge.upload.v1 import upload_service_pb2 as pb

BAD_FILES = {
    "empty": (b"", "empty"),
    "header only": (b"timestamp;value\n", "no data rows"),
    "binary": (bytes(range(256)) * 40, ""),
    "no timestamp column": (b"a;b\n1;2\n3;4\n5;6\n", "timestamp"),
    "no numeric column": (b"time;label\n2000-01-01 00:00:00;x\n2000-01-01 01:00:00;y\n", "numeric"),
    "bad timestamp": (b"time;v\n2000-01-01 00:00:00;1\n2000-01-01 01:00:00;2\nyesterday;3\n", "line 4"),
    "extra field": (b"time;v\n2000-01-01 00:00:00;1\n2000-01-01 01:00:00;2;9\n2000-01-01 02:00:00;3\n", "line 3"),
    "missing field": (b"time;v;w\n2000-01-01 00:00:00;1;2\n2000-01-01 01:00:00;2\n", "line 3"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
@pytest.mark.parametrize("flow", ["chunked", "streaming"])
def test_an_unusable_csv_is_refused_with_a_clear_error_and_leaves_nothing(upload_service, tenant, kind, flow):
    data, expected = BAD_FILES[kind]
    stub = upload_service.stub
    with pytest.raises(grpc.RpcError) as caught:
        if flow == "chunked":
            upload_whole(stub, tenant, data) if data else _complete_empty(stub, tenant)
        else:
            stream_upload(stub, tenant, data)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert expected.lower() in field_violations(caught.value)["file"].lower()
    assert stub.ListFiles(pb.ListFilesRequest(), metadata=tenant.metadata).files == []
    assert stub.ListUploads(pb.ListUploadsRequest(), metadata=tenant.metadata).uploads == []
    assert tenant_objects(upload_service.store, tenant) == []


def _complete_empty(stub, tenant):
    upload = create_upload(stub, tenant)
    stub.CompleteUpload(pb.CompleteUploadRequest(name=upload.name, sha256=sha256(b"")), metadata=tenant.metadata)


def test_the_tenant_quota_refuses_a_file_and_keeps_nothing(db, local_store, tenant):
    data = csv_bytes(400)
    with running_upload_service(db, local_store, tenant_quota_bytes=str(len(data) + 100)) as service:
        upload_whole(service.stub, tenant, data)  # fits
        with pytest.raises(grpc.RpcError) as declared:
            create_upload(service.stub, tenant, data)
        assert declared.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        [quota] = status_details(declared.value, error_details_pb2.QuotaFailure)
        assert quota.violations[0].subject == "tenant:stored_bytes"

        # Undeclared sizes are caught as the bytes arrive; the upload is then discarded.
        upload = create_upload(service.stub, tenant)
        with pytest.raises(grpc.RpcError) as chunked:
            send_chunks(service.stub, tenant, upload.name, data, chunk=1000)
        assert chunked.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        with pytest.raises(grpc.RpcError) as streamed:
            stream_upload(service.stub, tenant, data)
        assert streamed.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert service.stub.ListUploads(pb.ListUploadsRequest(), metadata=tenant.metadata).uploads == []
        assert len(tenant_objects(local_store, tenant)) == 1


def test_unfinished_uploads_per_tenant_are_limited(db, local_store, tenant, other_tenant):
    with running_upload_service(db, local_store, tenant_max_unfinished_uploads="3") as service:
        started = [create_upload(service.stub, tenant) for _ in range(3)]
        with pytest.raises(grpc.RpcError) as refused:
            create_upload(service.stub, tenant)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        [quota] = status_details(refused.value, error_details_pb2.QuotaFailure)
        assert quota.violations[0].subject == "tenant:unfinished_uploads"
        assert len(service.stub.ListUploads(pb.ListUploadsRequest(), metadata=tenant.metadata).uploads) == 3
        create_upload(service.stub, other_tenant)  # another tenant's share is its own
        # Finishing (or aborting) one makes room again.
        service.stub.AbortUpload(pb.AbortUploadRequest(name=started[0].name), metadata=tenant.metadata)
        upload_whole(service.stub, tenant, csv_bytes(50))
        create_upload(service.stub, tenant)


def test_another_tenants_uploads_and_files_are_not_found(upload_service, tenant, other_tenant):
    stub, data = upload_service.stub, csv_bytes(50)
    file = upload_whole(stub, tenant, data)
    upload = create_upload(stub, tenant, data)
    send_chunks(stub, tenant, upload.name, data, chunk=100, stop=100)
    calls = {
        "GetUpload": lambda: stub.GetUpload(pb.GetUploadRequest(name=upload.name), metadata=other_tenant.metadata),
        "WriteUploadChunk": lambda: stub.WriteUploadChunk(
            pb.WriteUploadChunkRequest(name=upload.name, offset=100, data=data[100:200]), metadata=other_tenant.metadata
        ),
        "CompleteUpload": lambda: stub.CompleteUpload(
            pb.CompleteUploadRequest(name=upload.name, sha256=sha256(data)), metadata=other_tenant.metadata
        ),
        "AbortUpload": lambda: stub.AbortUpload(
            pb.AbortUploadRequest(name=upload.name), metadata=other_tenant.metadata
        ),
        "GetFile": lambda: stub.GetFile(pb.GetFileRequest(name=file.name), metadata=other_tenant.metadata),
        "UpdateFile": lambda: stub.UpdateFile(
            pb.UpdateFileRequest(
                file=pb.File(name=file.name, display_name="mine"), update_mask={"paths": ["display_name"]}
            ),
            metadata=other_tenant.metadata,
        ),
        "DeleteFile": lambda: stub.DeleteFile(pb.DeleteFileRequest(name=file.name), metadata=other_tenant.metadata),
        "DownloadFile": lambda: list(
            stub.DownloadFile(pb.DownloadFileRequest(name=file.name), metadata=other_tenant.metadata)
        ),
        "PreviewFile": lambda: stub.PreviewFile(pb.PreviewFileRequest(name=file.name), metadata=other_tenant.metadata),
    }
    for rpc, call in calls.items():
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND, rpc
    assert stub.ListFiles(pb.ListFilesRequest(), metadata=other_tenant.metadata).files == []
    assert stub.ListUploads(pb.ListUploadsRequest(), metadata=other_tenant.metadata).uploads == []
    # ... and the owner's resources are untouched.
    assert stub.GetFile(pb.GetFileRequest(name=file.name), metadata=tenant.metadata).file.display_name == "load"
    assert stub.GetUpload(pb.GetUploadRequest(name=upload.name), metadata=tenant.metadata).upload.received_bytes == 100


def test_calls_without_a_valid_token_are_unauthenticated_but_health_and_reflection_are_open(upload_service, tenant):
    stub = upload_service.stub
    for metadata in (
        (),
        (("authorization", "Bearer nonsense"),),
        (("authorization", "Basic abc"),),
        (("authorization", tenant.metadata[0][1] + "x"),),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListFiles(pb.ListFilesRequest(), metadata=metadata)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    channel = client_channel(upload_service.address)
    health = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service="tsforge.upload.v1.UploadService")
    )
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    services = ProtoReflectionDescriptorDatabase(channel).get_services()
    assert "tsforge.upload.v1.UploadService" in services and "grpc.health.v1.Health" in services


def test_a_dropped_connection_resumes_on_another_replica_to_identical_bytes(db, store, tenant, tmp_path):
    # Big enough that the S3 store buffers pending bytes in PostgreSQL between parts.
    data = csv_bytes(300_000)
    assert len(data) > 7 << 20
    with running_upload_service(db, store) as first:
        upload = create_upload(first.stub, tenant, data, declared_sha256=sha256(data))
        send_chunks(first.stub, tenant, upload.name, data, chunk=1 << 20, stop=(6 << 20) + 12345)
        first.server.running.stop(grace=0)  # the connection drops mid-upload
        with pytest.raises(grpc.RpcError) as dropped:
            send_chunks(first.stub, tenant, upload.name, data, chunk=1 << 20, start=(6 << 20) + 12345)
        assert dropped.value.code() == grpc.StatusCode.UNAVAILABLE
    with running_upload_service(db, store) as second:
        path = tmp_path / "load.csv"
        path.write_bytes(data)
        with path.open("rb") as handle:  # finds the unfinished upload, as `tsforge upload` does
            file = client_upload(second.stub, tenant.metadata, handle, path.name, role=1)
        assert file.name == f"files/{upload.name.split('/')[1]}"
        header, body = download(second.stub, tenant, file.name)
        assert body == data and header.sha256 == sha256(data)
        assert tenant_objects(store, tenant) == [f"files/{tenant.name}/{upload.name.split('/')[1]}"]


def test_expired_uploads_are_reaped_with_their_bytes(db, store, tenant):
    with running_upload_service(db, store, upload_expiry_seconds="1") as service:
        data = csv_bytes(100)
        upload = create_upload(service.stub, tenant, data)
        send_chunks(service.stub, tenant, upload.name, data, chunk=1000, stop=2000)
        completed = upload_whole(service.stub, tenant, data, file_name="kept.csv")
        with db.transaction() as session:
            repo.update_upload(session, upload.name.split("/")[1], update_time=_long_ago())
        assert service.server.uploads.reap_expired() >= 1
        with pytest.raises(grpc.RpcError) as caught:
            service.stub.GetUpload(pb.GetUploadRequest(name=upload.name), metadata=tenant.metadata)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert service.stub.GetFile(pb.GetFileRequest(name=completed.name), metadata=tenant.metadata).file
        assert tenant_objects(store, tenant) == [f"files/{tenant.name}/{completed.name.split('/')[1]}"]


def _long_ago() -> datetime:
    return datetime.now(UTC) - timedelta(days=2)


def test_chunks_alternating_between_replicas_complete_to_the_right_file(db, store, tenant):
    data = csv_bytes(2000)
    with running_upload_service(db, store) as first, running_upload_service(db, store) as second:
        upload = create_upload(first.stub, tenant, data)
        chunk = 4096
        for number, offset in enumerate(range(0, len(data), chunk)):
            replica = (first, second)[number % 2]
            send_chunks(
                replica.stub, tenant, upload.name, data, chunk=chunk, start=offset, stop=min(offset + chunk, len(data))
            )
        # The first replica saw every other chunk: its scan must not stand for the file.
        file = first.stub.CompleteUpload(
            pb.CompleteUploadRequest(name=upload.name, sha256=sha256(data)), metadata=tenant.metadata
        ).file
        expected = upload_whole(first.stub, tenant, data, chunk=len(data))
        assert file.sha256 == sha256(data) == expected.sha256
        assert file.profile == expected.profile and file.profile.row_count == 2000


def test_two_streams_that_each_fit_alone_make_one_file(db, local_store, tenant):
    data = csv_bytes(400)
    with running_upload_service(db, local_store, tenant_quota_bytes=str(len(data) + 100)) as service:
        both_sent = threading.Barrier(2, timeout=30)

        def stream() -> pb.File | grpc.RpcError:
            def messages():
                yield pb.UploadFileRequest(
                    metadata=pb.UploadFileMetadata(file_name="load.csv", role=common_pb2.FEATURE_ROLE_INPUT)
                )
                for offset in range(0, len(data), 4096):
                    yield pb.UploadFileRequest(chunk=data[offset : offset + 4096])
                both_sent.wait()  # both passed the checks made while the bytes stream in

            try:
                return service.stub.UploadFile(messages(), metadata=tenant.metadata).file
            except grpc.RpcError as error:
                return error

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda _: stream(), range(2)))
        files = [r for r in results if isinstance(r, pb.File)]
        [refused] = [r for r in results if isinstance(r, grpc.RpcError)]
        assert len(files) == 1 and refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert tenant_objects(local_store, tenant) == [f"files/{tenant.name}/{files[0].name.split('/')[1]}"]
        listed = service.stub.ListFiles(pb.ListFilesRequest(), metadata=tenant.metadata).files
        assert [f.name for f in listed] == [files[0].name]
