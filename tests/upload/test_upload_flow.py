"""The upload service as a client sees it, over a real channel, against PostgreSQL and
each object store (a local directory and a moto S3 server)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2

from tests.upload.helpers import (
    INPUT,
    OUTPUT,
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
from tsforge.upload.v1 import upload_service_pb2 as pb


def test_chunked_upload_creates_a_profiled_file_with_identical_bytes(upload_service, tenant):
    stub, data = upload_service.stub, csv_bytes(500)
    upload = create_upload(stub, tenant, data, display_name="Load", description="hourly load")
    assert upload.state == pb.UPLOAD_STATE_ACTIVE and upload.received_bytes == 0
    assert upload.expire_time.seconds > upload.create_time.seconds

    progress = send_chunks(stub, tenant, upload.name, data, chunk=1000, stop=3000)
    assert progress.received_bytes == 3000
    assert stub.GetUpload(pb.GetUploadRequest(name=upload.name), metadata=tenant.metadata).upload.received_bytes == 3000
    send_chunks(stub, tenant, upload.name, data, chunk=1000, start=3000)

    file = stub.CompleteUpload(
        pb.CompleteUploadRequest(name=upload.name, sha256=sha256(data)), metadata=tenant.metadata
    ).file
    assert file.name.startswith("files/") and file.display_name == "Load" and file.role == INPUT
    assert (file.size_bytes, file.sha256) == (len(data), sha256(data))
    profile = file.profile
    assert (profile.separator, profile.decimal_mark, profile.timestamp_column) == (";", ".", "timestamp")
    assert profile.row_count == 500
    assert profile.median_step.seconds == 3600 and profile.gap_count == 0
    assert [c.name for c in profile.columns] == ["load", "temperature"]
    assert profile.columns[1].min == 0 and profile.columns[1].max == 12

    header, body = download(stub, tenant, file.name)
    assert body == data and header.sha256 == sha256(data) and header.size_bytes == len(data)
    got = stub.GetUpload(pb.GetUploadRequest(name=upload.name), metadata=tenant.metadata).upload
    assert got.state == pb.UPLOAD_STATE_COMPLETED and got.file == file.name


def test_completing_twice_returns_the_same_file(upload_service, tenant):
    stub, data = upload_service.stub, csv_bytes(50)
    upload = create_upload(stub, tenant, data)
    send_chunks(stub, tenant, upload.name, data, chunk=len(data))
    request = pb.CompleteUploadRequest(name=upload.name, sha256=sha256(data))
    first = stub.CompleteUpload(request, metadata=tenant.metadata).file
    again = stub.CompleteUpload(request, metadata=tenant.metadata).file
    assert again.name == first.name
    files = stub.ListFiles(pb.ListFilesRequest(), metadata=tenant.metadata).files
    assert [f.name for f in files] == [first.name]


def test_resending_a_chunk_is_harmless_and_gaps_or_overlaps_name_the_expected_offset(upload_service, tenant):
    stub, data = upload_service.stub, csv_bytes(100)
    upload = create_upload(stub, tenant, data)
    send_chunks(stub, tenant, upload.name, data, chunk=500, stop=1000)
    again = stub.WriteUploadChunk(
        pb.WriteUploadChunkRequest(name=upload.name, offset=500, data=data[500:1000]), metadata=tenant.metadata
    ).upload
    assert again.received_bytes == 1000

    for offset, chunk in ((1500, data[1500:1600]), (900, data[900:1200])):
        with pytest.raises(grpc.RpcError) as caught:
            stub.WriteUploadChunk(
                pb.WriteUploadChunkRequest(name=upload.name, offset=offset, data=chunk), metadata=tenant.metadata
            )
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "expected offset 1000" in caught.value.details()
        [failure] = status_details(caught.value, error_details_pb2.PreconditionFailure)
        assert failure.violations[0].type == "OFFSET"

    send_chunks(stub, tenant, upload.name, data, chunk=700, start=1000)
    file = stub.CompleteUpload(
        pb.CompleteUploadRequest(name=upload.name, sha256=sha256(data)), metadata=tenant.metadata
    ).file
    assert download(stub, tenant, file.name)[1] == data


def test_checksum_mismatch_is_invalid_and_keeps_nothing(upload_service, tenant):
    stub, data = upload_service.stub, csv_bytes(100)
    upload = create_upload(stub, tenant, data)
    send_chunks(stub, tenant, upload.name, data, chunk=1024)
    with pytest.raises(grpc.RpcError) as caught:
        stub.CompleteUpload(
            pb.CompleteUploadRequest(name=upload.name, sha256=sha256(b"other")), metadata=tenant.metadata
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sha256" in field_violations(caught.value)
    with pytest.raises(grpc.RpcError) as gone:
        stub.GetUpload(pb.GetUploadRequest(name=upload.name), metadata=tenant.metadata)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    assert stub.ListFiles(pb.ListFilesRequest(), metadata=tenant.metadata).files == []
    assert tenant_objects(upload_service.store, tenant) == []


def test_streaming_upload_gives_the_same_file_as_the_chunked_flow(upload_service, tenant):
    stub, data = upload_service.stub, csv_bytes(300)
    streamed = stream_upload(stub, tenant, data, chunk=777, role=OUTPUT, sha256=sha256(data))
    chunked = upload_whole(stub, tenant, data, role=OUTPUT)
    assert streamed.sha256 == chunked.sha256 == sha256(data)
    assert streamed.profile == chunked.profile
    assert streamed.role == OUTPUT and streamed.display_name == "load"
    assert download(stub, tenant, streamed.name)[1] == data


def test_streaming_upload_with_a_wrong_checksum_keeps_nothing(upload_service, tenant):
    with pytest.raises(grpc.RpcError) as caught:
        stream_upload(upload_service.stub, tenant, csv_bytes(20), sha256=sha256(b"x"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert tenant_objects(upload_service.store, tenant) == []


def test_abort_discards_the_upload_and_its_bytes(upload_service, tenant):
    stub, data = upload_service.stub, csv_bytes(100)
    upload = create_upload(stub, tenant, data)
    send_chunks(stub, tenant, upload.name, data, chunk=1000, stop=2000)
    stub.AbortUpload(pb.AbortUploadRequest(name=upload.name), metadata=tenant.metadata)
    assert stub.ListUploads(pb.ListUploadsRequest(), metadata=tenant.metadata).uploads == []
    with pytest.raises(grpc.RpcError) as caught:
        send_chunks(stub, tenant, upload.name, data, chunk=1000, start=2000)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert tenant_objects(upload_service.store, tenant) == []


def test_files_list_in_pages_filter_by_role_and_update_and_delete(upload_service, tenant):
    stub = upload_service.stub
    made = [
        upload_whole(stub, tenant, csv_bytes(10 + i), role=INPUT if i % 2 else OUTPUT, file_name=f"f{i}.csv")
        for i in range(5)
    ]
    seen, token = [], ""
    while True:
        page = stub.ListFiles(pb.ListFilesRequest(page_size=2, page_token=token), metadata=tenant.metadata)
        assert len(page.files) <= 2
        seen += [f.name for f in page.files]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f.name for f in reversed(made)]
    inputs = stub.ListFiles(pb.ListFilesRequest(role=INPUT), metadata=tenant.metadata).files
    assert sorted(f.name for f in inputs) == sorted(f.name for f in made if f.role == INPUT)

    target = made[0]
    updated = stub.UpdateFile(
        pb.UpdateFileRequest(
            file=pb.File(name=target.name, display_name="Renamed", description="new", role=INPUT, size_bytes=1),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name", "role"]),
        ),
        metadata=tenant.metadata,
    ).file
    assert (updated.display_name, updated.role, updated.description) == ("Renamed", INPUT, "")
    assert updated.size_bytes == target.size_bytes
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpdateFile(
            pb.UpdateFileRequest(
                file=pb.File(name=target.name, size_bytes=1, display_name=""),
                update_mask=field_mask_pb2.FieldMask(paths=["size_bytes", "display_name"]),
            ),
            metadata=tenant.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"update_mask", "file.display_name"}

    stub.DeleteFile(pb.DeleteFileRequest(name=target.name), metadata=tenant.metadata)
    with pytest.raises(grpc.RpcError) as gone:
        stub.GetFile(pb.GetFileRequest(name=target.name), metadata=tenant.metadata)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    assert len(tenant_objects(upload_service.store, tenant)) == 4


def test_preview_returns_the_first_parsed_rows(upload_service, tenant):
    stub = upload_service.stub
    file = upload_whole(stub, tenant, csv_bytes(30))
    preview = stub.PreviewFile(pb.PreviewFileRequest(name=file.name, row_count=3), metadata=tenant.metadata)
    assert list(preview.columns) == ["load", "temperature"]
    assert [list(r.values) for r in preview.rows] == [[100.5, 0.0], [101.5, 1.0], [102.5, 2.0]]
    assert preview.rows[1].time.ToJsonString() == "2000-06-05T01:00:00Z"


def test_invalid_requests_list_every_problem_at_once(upload_service, tenant):
    stub = upload_service.stub
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateUpload(
            pb.CreateUploadRequest(upload=pb.Upload(file_name="", declared_size_bytes=-1, declared_sha256="xyz")),
            metadata=tenant.metadata,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"file_name", "role", "declared_size_bytes", "declared_sha256"}
    for request, field in (
        (pb.GetFileRequest(name="uploads/abc"), "name"),
        (pb.GetFileRequest(name="files/../x"), "name"),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetFile(request, metadata=tenant.metadata)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in field_violations(caught.value)
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListFiles(pb.ListFilesRequest(page_token="not-a-token"), metadata=tenant.metadata)
    assert "page_token" in field_violations(caught.value)
