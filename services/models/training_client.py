"""The training service, as the registry sees it: the shared TrainingClient plus the
model artifact download that only the registry needs."""

from __future__ import annotations

from tsforge.core.clients import TrainingClient as SharedTrainingClient
from tsforge.training.v1 import training_service_pb2 as pb


class TrainingClient(SharedTrainingClient):
    def read_model_artifact(self, tenant: str, model: str) -> bytes:
        """A SUCCEEDED model's native artifact, whole. Raises NotFound, FailedPrecondition, Unavailable."""
        return self._call(
            model,
            lambda: b"".join(
                m.chunk
                for m in self._stub.DownloadModelArtifact(
                    pb.DownloadModelArtifactRequest(name=model), metadata=self._metadata(tenant), timeout=self._timeout
                )
                if m.HasField("chunk")
            ),
        )
