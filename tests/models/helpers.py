"""Calls the models tests share."""

from __future__ import annotations

import hashlib

from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.models.v1 import models_service_pb2 as pb


def register(stub, tenant, model: str, source_model: str, **fields) -> mr.ModelVersion:
    return stub.RegisterModelVersion(
        pb.RegisterModelVersionRequest(
            parent=f"registeredModels/{model}", model_version=mr.ModelVersion(source_model=source_model, **fields)
        ),
        metadata=tenant.metadata,
    ).model_version


def download(stub, tenant, name: str, format: int = 0) -> tuple[object, bytes]:
    header, body = None, bytearray()
    for message in stub.DownloadModelVersion(
        pb.DownloadModelVersionRequest(name=name, format=format), metadata=tenant.metadata
    ):
        if message.HasField("header"):
            assert header is None and not body
            header = message.header
        else:
            assert len(message.chunk) <= 1 << 20
            body += message.chunk
    assert header is not None and header.size_bytes == len(body)
    assert header.sha256 == hashlib.sha256(body).hexdigest()
    return header, bytes(body)
