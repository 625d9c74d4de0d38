"""Clients for one service to call another on behalf of a tenant.

A service acts for the tenant whose request (or job) it serves: it signs a short-lived
token for that tenant with the shared secret, so the callee applies exactly the same
ownership checks as for the user. Failures come back as domain errors.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from tsforge.core.auth import issue_token
from tsforge.core.errors import NotFound, Unavailable
from tsforge.core.server import client_channel
from tsforge.upload.v1 import upload_service_pb2 as upload_pb
from tsforge.upload.v1 import upload_service_pb2_grpc as upload_grpc

TOKEN_SECONDS = 600


class UploadClient:
    """The upload service, as training sees it: look files up, stream their bytes."""

    def __init__(self, address: str, jwt_secret: str, timeout: float = 30.0):
        self._channel = client_channel(address)
        self._stub = upload_grpc.UploadServiceStub(self._channel)
        self._secret = jwt_secret
        self._timeout = timeout

    def _metadata(self, tenant: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {issue_token(self._secret, tenant, TOKEN_SECONDS)}"),)

    def get_file(self, tenant: str, name: str) -> upload_pb.File | None:
        """The tenant's file, or None when it does not exist (or is another tenant's).

        Raises Unavailable when the upload service cannot be reached.
        """
        try:
            return self._stub.GetFile(upload_pb.GetFileRequest(name=name), metadata=self._metadata(tenant),
                                      timeout=self._timeout).file
        except grpc.RpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise Unavailable(f"the upload service could not be asked about {name}: {error.details()}") from None

    def read_file(self, tenant: str, name: str) -> Iterator[bytes]:
        """The file's bytes in chunks. Raises NotFound, Unavailable."""
        try:
            for message in self._stub.DownloadFile(upload_pb.DownloadFileRequest(name=name),
                                                   metadata=self._metadata(tenant)):
                if message.HasField("chunk"):
                    yield message.chunk
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(name) from None
            raise Unavailable(f"the upload service could not send {name}: {error.details()}") from None

    def close(self) -> None:
        self._channel.close()
