"""Clients for one service to call another on behalf of a tenant.

A service acts for the tenant whose request (or job) it serves: it signs a short-lived
token for that tenant with the shared secret, so the callee applies exactly the same
ownership checks as for the user. Failures come back as domain errors.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from tsforge.core.auth import issue_token
from tsforge.core.channels import client_channel
from tsforge.core.errors import FailedPrecondition, NotFound, Unavailable
from tsforge.evaluation.v1 import evaluation_resources_pb2
from tsforge.evaluation.v1 import evaluation_service_pb2 as evaluation_pb
from tsforge.evaluation.v1 import evaluation_service_pb2_grpc as evaluation_grpc
from tsforge.forecasting.windowing import Series
from tsforge.tabular.series import read_series
from tsforge.training.v1 import training_resources_pb2
from tsforge.training.v1 import training_service_pb2 as training_pb
from tsforge.training.v1 import training_service_pb2_grpc as training_grpc
from tsforge.upload.v1 import upload_service_pb2 as upload_pb
from tsforge.upload.v1 import upload_service_pb2_grpc as upload_grpc

TOKEN_SECONDS = 600


class ServiceClient:
    """A channel to one service, and the metadata that makes a call act for a tenant."""

    def __init__(self, stub_class, address: str, jwt_secret: str, timeout: float, max_message_bytes: int = 8 << 20):
        self._channel = client_channel(address, max_message_bytes)
        self._stub = stub_class(self._channel)
        self._secret = jwt_secret
        self._timeout = timeout

    def _metadata(self, tenant: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {issue_token(self._secret, tenant, TOKEN_SECONDS)}"),)

    def close(self) -> None:
        self._channel.close()


class UploadClient(ServiceClient):
    """The upload service, as training sees it: look files up, stream their bytes."""

    def __init__(self, address: str, jwt_secret: str, timeout: float = 30.0):
        super().__init__(upload_grpc.UploadServiceStub, address, jwt_secret, timeout)

    def get_file(self, tenant: str, name: str) -> upload_pb.File | None:
        """The tenant's file, or None when it does not exist (or is another tenant's).

        Raises Unavailable when the upload service cannot be reached.
        """
        try:
            return self._stub.GetFile(
                upload_pb.GetFileRequest(name=name), metadata=self._metadata(tenant), timeout=self._timeout
            ).file
        except grpc.RpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise Unavailable(f"the upload service could not be asked about {name}: {error.details()}") from None

    def read_series(self, tenant: str, name: str, column: str) -> Series:
        """One value column of the tenant's file as a series, read as its profile says.

        Raises NotFound (also for another tenant's file), Unavailable.
        """
        file = self.get_file(tenant, name)
        if file is None:
            raise NotFound(name)
        times, values = read_series(self.read_file(tenant, name), file.profile, column)
        return Series(times, values)

    def read_file(self, tenant: str, name: str) -> Iterator[bytes]:
        """The file's bytes in chunks. Raises NotFound, Unavailable."""
        try:
            for message in self._stub.DownloadFile(
                upload_pb.DownloadFileRequest(name=name), metadata=self._metadata(tenant)
            ):
                if message.HasField("chunk"):
                    yield message.chunk
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(name) from None
            raise Unavailable(f"the upload service could not send {name}: {error.details()}") from None


class TrainingClient(ServiceClient):
    """The training service, as evaluation and the registry see it: runs, datasets,
    stored predictions, model artifacts."""

    def __init__(self, address: str, jwt_secret: str, timeout: float = 60.0, max_message_bytes: int = 8 << 20):
        super().__init__(training_grpc.TrainingServiceStub, address, jwt_secret, timeout, max_message_bytes)

    def get_run(self, tenant: str, name: str) -> training_resources_pb2.Run:
        """The tenant's run "runs/{run}". Raises NotFound (also for another tenant's), Unavailable."""
        return self._call(
            name,
            lambda: (
                self._stub.GetRun(
                    training_pb.GetRunRequest(name=name), metadata=self._metadata(tenant), timeout=self._timeout
                ).run
            ),
        )

    def get_dataset(self, tenant: str, name: str) -> training_resources_pb2.Dataset:
        """The tenant's dataset "sessions/{s}/datasets/{d}". Raises NotFound, Unavailable."""
        return self._call(
            name,
            lambda: (
                self._stub.GetDataset(
                    training_pb.GetDatasetRequest(name=name), metadata=self._metadata(tenant), timeout=self._timeout
                ).dataset
            ),
        )

    def read_predictions(
        self, tenant: str, name: str, split: int, history_steps: int = 0
    ) -> tuple[training_resources_pb2.PredictionsHeader, Iterator[training_resources_pb2.PredictionsChunk]]:
        """The header of a model's stored predictions on one split, and its chunks.

        Raises NotFound, FailedPrecondition (the model is not SUCCEEDED), Unavailable;
        the chunks may raise the same while they stream.
        """
        responses = self._stub.ReadPredictions(
            training_pb.ReadPredictionsRequest(name=name, split=split, history_steps=history_steps),
            metadata=self._metadata(tenant),
            timeout=self._timeout * 10,
        )
        first = self._call(name, lambda: next(responses))

        def chunks() -> Iterator[training_resources_pb2.PredictionsChunk]:
            while True:
                message = self._call(name, lambda: next(responses, None))
                if message is None:
                    return
                yield message.chunk

        return first.header, chunks()

    def read_dataset_object(self, tenant: str, dataset: str, object_id: str) -> bytes:
        """One stored object of a READY dataset (e.g. a violin plot), whole.

        Raises NotFound, Unavailable.
        """
        responses = self._stub.DownloadDatasetObject(
            training_pb.DownloadDatasetObjectRequest(name=dataset, object_id=object_id),
            metadata=self._metadata(tenant),
            timeout=self._timeout,
        )
        return self._call(dataset, lambda: b"".join(m.chunk for m in responses if m.HasField("chunk")))

    def read_model_artifact(self, tenant: str, model: str) -> bytes:
        """A SUCCEEDED model's native artifact, whole. Raises NotFound, FailedPrecondition, Unavailable."""
        return self._call(
            model,
            lambda: b"".join(
                m.chunk
                for m in self._stub.DownloadModelArtifact(
                    training_pb.DownloadModelArtifactRequest(name=model),
                    metadata=self._metadata(tenant),
                    timeout=self._timeout,
                )
                if m.HasField("chunk")
            ),
        )

    @staticmethod
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
                # Names were checked before the call: a refusal is training's, not the caller's.
                raise FailedPrecondition(
                    f"the training service refused a request about {name}: {error.details()}", name
                ) from None
            raise Unavailable(f"the training service could not answer about {name}: {error.details()}") from None


class EvaluationClient(ServiceClient):
    """The evaluation service, as the registry sees it: the evaluations of a run."""

    PAGE_SIZE = 50

    def __init__(self, address: str, jwt_secret: str, timeout: float = 30.0, max_message_bytes: int = 8 << 20):
        super().__init__(evaluation_grpc.EvaluationServiceStub, address, jwt_secret, timeout, max_message_bytes)

    def newest_covering(self, tenant: str, run: str, model: str) -> evaluation_resources_pb2.Evaluation | None:
        """The newest READY evaluation of `run` that evaluated `model`, or None.

        Raises Unavailable when the evaluation service cannot answer: a version's
        lineage never changes, so it is not registered with its metrics silently missing.
        """
        metadata = self._metadata(tenant)
        token = ""
        while True:
            try:
                page = self._stub.ListEvaluations(
                    evaluation_pb.ListEvaluationsRequest(run=run, page_size=self.PAGE_SIZE, page_token=token),
                    metadata=metadata,
                    timeout=self._timeout,
                )
            except grpc.RpcError as error:
                raise Unavailable(
                    f"the evaluation service could not list the evaluations of {run}: {error.details()}"
                ) from None
            for evaluation in page.evaluations:  # newest first
                if evaluation.state == evaluation_resources_pb2.EVALUATION_STATE_READY and model in evaluation.models:
                    return evaluation
            token = page.next_page_token
            if not token:
                return None
