"""Small helpers the upload tests share: CSV bodies, status details, chunked sends."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tsforge.common.v1 import common_pb2
from tsforge.upload.v1 import upload_service_pb2 as pb

INPUT = common_pb2.FEATURE_ROLE_INPUT
OUTPUT = common_pb2.FEATURE_ROLE_OUTPUT


def csv_bytes(rows: int = 200, start_hour: int = 0) -> bytes:
    """A `;`-separated hourly series with two value columns, as the seed system's users bring."""
    start = datetime(2000, 6, 5) + timedelta(hours=start_hour)
    lines = ["timestamp;load;temperature"]
    for i in range(rows):
        lines.append(f"{start + timedelta(hours=i):%Y-%m-%d %H:%M:%S};{100 + i % 7}.5;{i % 13}")
    return ("\n".join(lines) + "\n").encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def status_details(error: grpc.RpcError, kind):
    """The unpacked details of `kind` (e.g. BadRequest) a failed call carries."""
    status = rpc_status.from_call(error)
    assert status is not None, f"no rich status on {error.code()}: {error.details()}"
    found = []
    for detail in status.details:
        if detail.Is(kind.DESCRIPTOR):
            unpacked = kind()
            detail.Unpack(unpacked)
            found.append(unpacked)
    return found


def field_violations(error: grpc.RpcError) -> dict[str, str]:
    return {
        v.field: v.description for d in status_details(error, error_details_pb2.BadRequest) for v in d.field_violations
    }


def create_upload(stub, tenant, data: bytes | None = None, role=INPUT, file_name="load.csv", **fields) -> pb.Upload:
    if data is not None:
        fields.setdefault("declared_size_bytes", len(data))
    return stub.CreateUpload(
        pb.CreateUploadRequest(upload=pb.Upload(file_name=file_name, role=role, **fields)), metadata=tenant.metadata
    ).upload


def send_chunks(stub, tenant, upload_name: str, data: bytes, chunk: int, start: int = 0, stop: int | None = None):
    """Writes data[start:stop] in chunks; returns the last Upload the service returned."""
    stop = len(data) if stop is None else stop
    upload = None
    for offset in range(start, stop, chunk):
        upload = stub.WriteUploadChunk(
            pb.WriteUploadChunkRequest(name=upload_name, offset=offset, data=data[offset : min(offset + chunk, stop)]),
            metadata=tenant.metadata,
        ).upload
    return upload


def upload_whole(stub, tenant, data: bytes, chunk: int = 4096, **fields) -> pb.File:
    upload = create_upload(stub, tenant, data, **fields)
    send_chunks(stub, tenant, upload.name, data, chunk)
    return stub.CompleteUpload(
        pb.CompleteUploadRequest(name=upload.name, sha256=sha256(data)), metadata=tenant.metadata
    ).file


def stream_upload(stub, tenant, data: bytes, chunk: int = 4096, role=INPUT, file_name="load.csv", **metadata):
    def messages():
        yield pb.UploadFileRequest(metadata=pb.UploadFileMetadata(file_name=file_name, role=role, **metadata))
        for offset in range(0, len(data), chunk):
            yield pb.UploadFileRequest(chunk=data[offset : offset + chunk])

    return stub.UploadFile(messages(), metadata=tenant.metadata).file


def download(stub, tenant, name: str) -> tuple[pb.DownloadFileHeader, bytes]:
    header, body = None, bytearray()
    for message in stub.DownloadFile(pb.DownloadFileRequest(name=name), metadata=tenant.metadata):
        if message.HasField("header"):
            header = message.header
        else:
            body += message.chunk
    assert header is not None, "the download sent no header"
    return header, bytes(body)


def tenant_objects(store, tenant) -> list[str]:
    return list(store.list(f"files/{tenant.name}/"))
