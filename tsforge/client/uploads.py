"""The resumable, checksummed upload flow, as every client runs it.

CreateUpload (size and SHA-256 declared) → WriteUploadChunk(offset) … → CompleteUpload.
An unfinished upload of the same bytes (same name, size and SHA-256) is resumed where it
stopped; a chunk whose answer was lost is asked about (GetUpload tells the offset); an
upload the object store lost (PreconditionFailure type UPLOAD_LOST: the service dropped
it) starts again once, from the first byte.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import BinaryIO

import grpc

from tsforge.upload.v1 import upload_service_pb2 as pb

CHUNK_BYTES = 5 << 20  # one S3 part each: no PostgreSQL round trip in the service
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL)
UPLOAD_LOST = "UPLOAD_LOST"

Progress = Callable[[int, int], None]  # (bytes received by the service, total)


def sha256_of(handle: BinaryIO) -> tuple[str, int]:
    """(hex SHA-256, size) of a seekable binary file, read in chunks; leaves it at 0."""
    digest, size = hashlib.sha256(), 0
    handle.seek(0)
    while block := handle.read(CHUNK_BYTES):
        digest.update(block)
        size += len(block)
    handle.seek(0)
    return digest.hexdigest(), size


def precondition_type(error: grpc.RpcError) -> str:
    """The type of the first PreconditionFailure violation of a failed call, or ""."""
    from tsforge.client.errors import from_rpc_error

    for violation in from_rpc_error(error).violations:
        if violation.type:
            return violation.type
    return ""


def upload(
    stub,
    metadata,
    handle: BinaryIO,
    file_name: str,
    role: int,
    display_name: str = "",
    description: str = "",
    progress: Progress | None = None,
    retries: int = 5,
) -> pb.File:
    """Uploads the seekable binary `handle` as `file_name`; returns the File with its
    profile. Raises grpc.RpcError for what retrying does not mend."""
    sha256, size = sha256_of(handle)

    def create() -> pb.Upload:
        new = pb.Upload(
            file_name=file_name,
            role=role,
            display_name=display_name,
            description=description,
            declared_size_bytes=size,
            declared_sha256=sha256,
        )
        return stub.CreateUpload(pb.CreateUploadRequest(upload=new), metadata=metadata).upload

    for attempt in range(2):  # a second time only when the store lost the upload
        current = (find_unfinished(stub, metadata, file_name, size, sha256) if attempt == 0 else None) or create()
        try:
            current = _send(stub, metadata, handle, current, size, progress, retries)
            request = pb.CompleteUploadRequest(name=current.name, sha256=sha256)
            return stub.CompleteUpload(request, metadata=metadata).file
        except grpc.RpcError as error:
            if attempt or precondition_type(error) != UPLOAD_LOST:
                raise
    raise AssertionError("unreachable")


def _send(stub, metadata, handle: BinaryIO, current: pb.Upload, size: int, progress, retries: int) -> pb.Upload:
    offset, failures = current.received_bytes, 0
    if progress:
        progress(offset, size)
    while offset < size:
        handle.seek(offset)
        data = handle.read(CHUNK_BYTES)
        try:
            request = pb.WriteUploadChunkRequest(name=current.name, offset=offset, data=data)
            current = stub.WriteUploadChunk(request, metadata=metadata, timeout=120).upload
            failures = 0
        except grpc.RpcError as error:
            if precondition_type(error) == UPLOAD_LOST:
                raise
            if error.code() not in (*RETRYABLE, grpc.StatusCode.FAILED_PRECONDITION) or failures >= retries:
                raise
            failures += 1
            time.sleep(min(2**failures * 0.2, 5))
            # The chunk may or may not have landed: ask the service where to go on.
            current = stub.GetUpload(pb.GetUploadRequest(name=current.name), metadata=metadata).upload
        offset = current.received_bytes
        if progress:
            progress(offset, size)
    return current


def find_unfinished(stub, metadata, file_name: str, size: int, sha256: str) -> pb.Upload | None:
    """The tenant's unfinished upload of these very bytes, if there is one."""
    token = ""
    while True:
        page = stub.ListUploads(pb.ListUploadsRequest(page_size=200, page_token=token), metadata=metadata)
        for candidate in page.uploads:
            if (candidate.declared_sha256, candidate.declared_size_bytes, candidate.file_name) == (
                sha256,
                size,
                file_name,
            ):
                return candidate
        token = page.next_page_token
        if not token:
            return None
