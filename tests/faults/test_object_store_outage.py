"""The object store goes away mid-upload and comes back: the service says UNAVAILABLE
(with a retry hint) and loses nothing, and `tsforge upload` of the same file resumes,
or starts again by itself when the store lost the upload's parts."""

from __future__ import annotations

import hashlib
import uuid

import grpc
import pytest
from click.testing import CliRunner
from google.rpc import error_details_pb2

from services.upload import repository as upload_repository
from tests.faults.proxy import CuttableProxy
from tests.plugin import running_upload_service
from tests.upload.helpers import status_details
from tsforge.cli.main import cli
from tsforge.client.uploads import CHUNK_BYTES
from tsforge.common.v1 import common_pb2
from tsforge.core.channels import client_channel
from tsforge.core.storage import S3ObjectStore
from tsforge.upload.v1 import upload_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc


@pytest.fixture
def proxied_store(s3_server):
    """An S3 store reached through a proxy the test can cut; moto keeps its state."""
    host, port = s3_server.endpoint.split(":")
    proxy = CuttableProxy((host, int(port)))
    store = S3ObjectStore.from_settings(
        endpoint=proxy.address,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        bucket=f"faults-{uuid.uuid4().hex[:16]}",
        secure=False,
        region="us-east-1",
    )
    yield proxy, store
    proxy.close()


def _csv(path, megabytes: float) -> bytes:
    rows, lines = int(megabytes * (1 << 20) / 30), ["time;load"]
    lines += [f"2024-01-{1 + i // 1440 % 28:02d} {i // 60 % 24:02d}:{i % 60:02d}:00;{i % 997}.125" for i in range(rows)]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return data


def _start_like_the_cli(stub, tenant, path, data: bytes) -> pb.Upload:
    """What an interrupted `tsforge upload` leaves: the upload and its first chunk."""
    upload = stub.CreateUpload(
        pb.CreateUploadRequest(
            upload=pb.Upload(
                file_name=path.name,
                role=common_pb2.FEATURE_ROLE_INPUT,
                declared_size_bytes=len(data),
                declared_sha256=hashlib.sha256(data).hexdigest(),
            )
        ),
        metadata=tenant.metadata,
    ).upload
    request = pb.WriteUploadChunkRequest(name=upload.name, offset=0, data=data[:CHUNK_BYTES])
    return stub.WriteUploadChunk(request, metadata=tenant.metadata).upload


def _cli_upload(service, tenant, path):
    env = {"TSFORGE_UPLOAD_ADDRESS": service.address, "TSFORGE_TOKEN": tenant.token}
    return CliRunner().invoke(cli, ["upload", str(path), "--role", "input"], env=env)


def test_an_outage_mid_upload_is_unavailable_and_the_upload_resumes_after_it(db, proxied_store, tenant, tmp_path):
    proxy, store = proxied_store
    path = tmp_path / "load.csv"
    data = _csv(path, 12)  # three chunks: two S3 parts, the rest waits in PostgreSQL
    with running_upload_service(db, store) as service:
        upload = _start_like_the_cli(service.stub, tenant, path, data)
        assert upload.received_bytes == CHUNK_BYTES
        proxy.cut()
        once = pb_grpc.UploadServiceStub(client_channel(service.address, retries=False))  # see the first answer
        chunk = pb.WriteUploadChunkRequest(
            name=upload.name, offset=CHUNK_BYTES, data=data[CHUNK_BYTES : 2 * CHUNK_BYTES]
        )
        with pytest.raises(grpc.RpcError) as outage:
            once.WriteUploadChunk(chunk, metadata=tenant.metadata, timeout=60)
        assert outage.value.code() == grpc.StatusCode.UNAVAILABLE, outage.value.details()
        [retry] = status_details(outage.value, error_details_pb2.RetryInfo)
        assert retry.retry_delay.ToTimedelta().total_seconds() > 0
        # What needs no store still answers, and nothing was lost.
        got = service.stub.GetUpload(pb.GetUploadRequest(name=upload.name), metadata=tenant.metadata).upload
        assert got.received_bytes == CHUNK_BYTES
        proxy.restore()
        result = _cli_upload(service, tenant, path)
        assert result.exit_code == 0, result.output
        files = service.stub.ListFiles(pb.ListFilesRequest(), metadata=tenant.metadata).files
        assert [f.sha256 for f in files] == [hashlib.sha256(data).hexdigest()]
        assert files[0].name == upload.name.replace("uploads/", "files/")  # the same upload, resumed
        assert service.stub.ListUploads(pb.ListUploadsRequest(), metadata=tenant.metadata).uploads == []
        assert b"".join(store.read(f"files/{tenant.name}/{files[0].name.split('/')[1]}")) == data


def test_an_upload_the_store_lost_is_started_again_by_tsforge_upload(db, local_store, tenant, tmp_path):
    # The local store: moto answers a part of an aborted multipart upload with 500s, where
    # S3 and MinIO say NoSuchUpload (what the ObjectStore contract calls ObjectNotFound).
    store = local_store
    path = tmp_path / "load.csv"
    data = _csv(path, 11)
    with running_upload_service(db, store) as service:
        upload = _start_like_the_cli(service.stub, tenant, path, data)
        with db.transaction() as session:  # the store forgets the multipart upload (e.g. a restart)
            row = upload_repository.get_upload(session, tenant.name, upload.name.split("/")[1])
        store.abort_multipart(row.object_key, row.multipart_id)
        result = _cli_upload(service, tenant, path)
        assert result.exit_code == 0, result.output
        files = service.stub.ListFiles(pb.ListFilesRequest(), metadata=tenant.metadata).files
        assert [f.sha256 for f in files] == [hashlib.sha256(data).hexdigest()]
        assert files[0].name != upload.name.replace("uploads/", "files/")  # a new upload
        assert service.stub.ListUploads(pb.ListUploadsRequest(), metadata=tenant.metadata).uploads == []
        assert [key for key in store.list(f"files/{tenant.name}/")] == [f"files/{tenant.name}/{files[0].name[6:]}"]
