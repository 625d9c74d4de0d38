"""The training service, as the registry sees it: runs, datasets and their stored objects.

Kept here rather than in tsforge/core/clients.py while the evaluation service's
TrainingClient is being written there; merge the two once it has landed.
"""

from __future__ import annotations

import grpc

from tsforge.core.auth import issue_token
from tsforge.core.clients import TOKEN_SECONDS
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound, Unavailable
from tsforge.core.server import client_channel
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb
from tsforge.training.v1 import training_service_pb2_grpc as pb_grpc


class TrainingClient:
    """Calls the training service as the tenant; failures come back as domain errors."""

    def __init__(self, address: str, jwt_secret: str, timeout: float = 60.0, max_message_bytes: int = 8 << 20):
        self._channel = client_channel(address, max_message_bytes)
        self._stub = pb_grpc.TrainingServiceStub(self._channel)
        self._secret = jwt_secret
        self._timeout = timeout

    def _metadata(self, tenant: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {issue_token(self._secret, tenant, TOKEN_SECONDS)}"),)

    def get_run(self, tenant: str, name: str) -> tr.Run:
        """Raises NotFound (also for another tenant's run), Unavailable."""
        return _call(name, lambda: self._stub.GetRun(pb.GetRunRequest(name=name), metadata=self._metadata(tenant),
                                                     timeout=self._timeout).run)

    def get_dataset(self, tenant: str, name: str) -> tr.Dataset:
        """Raises NotFound, Unavailable."""
        return _call(name, lambda: self._stub.GetDataset(pb.GetDatasetRequest(name=name),
                                                         metadata=self._metadata(tenant), timeout=self._timeout).dataset)

    def read_dataset_object(self, tenant: str, dataset: str, object_id: str) -> bytes:
        """One stored object of a dataset (e.g. "scalers"), whole. Raises NotFound, Unavailable."""
        return _call(dataset, lambda: b"".join(
            m.chunk for m in self._stub.DownloadDatasetObject(
                pb.DownloadDatasetObjectRequest(name=dataset, object_id=object_id),
                metadata=self._metadata(tenant), timeout=self._timeout) if m.HasField("chunk")))

    def read_model_artifact(self, tenant: str, model: str) -> bytes:
        """A SUCCEEDED model's native artifact, whole. Raises NotFound, FailedPrecondition, Unavailable."""
        return _call(model, lambda: b"".join(
            m.chunk for m in self._stub.DownloadModelArtifact(
                pb.DownloadModelArtifactRequest(name=model), metadata=self._metadata(tenant),
                timeout=self._timeout) if m.HasField("chunk")))

    def close(self) -> None:
        self._channel.close()


def _call(name: str, call):
    try:
        return call()
    except grpc.RpcError as error:
        code = error.code()
        if code == grpc.StatusCode.NOT_FOUND:
            raise NotFound(name) from None
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            raise FailedPrecondition(error.details(), name) from None
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            raise InvalidArgument(FieldViolation("source_model", error.details())) from None
        raise Unavailable(f"the training service could not answer about {name}: {error.details()}") from None
