"""Downloads: every format, wrong formats refused, and a bundle that a fresh Python
process with only Keras / scikit-learn / numpy and the manifest turns into the
version's test predictions."""

from __future__ import annotations

import io
import uuid
import zipfile

import grpc

from tests.models.helpers import download, register
from tests.training.helpers import expect_error
from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_service_pb2 as training_pb


def test_formats_and_wrong_formats(models_stack):
    stack, tenant = models_stack, models_stack.tenant
    model = f"d-{uuid.uuid4().hex[:8]}"
    dense = register(stack.stub, tenant, model, stack.model("dense")).name
    linear = register(stack.stub, tenant, model, stack.model("linear")).name
    header, keras_bytes = download(stack.stub, tenant, dense, common_pb2.ARTIFACT_FORMAT_KERAS)
    native = b"".join(
        m.chunk
        for m in stack.training.stub.DownloadModelArtifact(
            training_pb.DownloadModelArtifactRequest(name=stack.model("dense")), metadata=tenant.metadata
        )
    )
    assert keras_bytes == native and header.file_name.endswith(".keras")
    _, h5 = download(stack.stub, tenant, dense, common_pb2.ARTIFACT_FORMAT_H5)
    assert h5.startswith(b"\x89HDF")
    _, again = download(stack.stub, tenant, dense, common_pb2.ARTIFACT_FORMAT_H5)
    assert again == h5
    _, joblib_bytes = download(stack.stub, tenant, linear, common_pb2.ARTIFACT_FORMAT_JOBLIB)
    assert joblib_bytes
    header, bundle = download(stack.stub, tenant, f"registeredModels/{model}/versions/1")  # UNSPECIFIED: BUNDLE
    assert header.content_type == "application/zip" and zipfile.ZipFile(io.BytesIO(bundle)).testzip() is None
    for name, wrong in (
        (dense, common_pb2.ARTIFACT_FORMAT_JOBLIB),
        (linear, common_pb2.ARTIFACT_FORMAT_KERAS),
        (linear, common_pb2.ARTIFACT_FORMAT_H5),
    ):
        expect_error(
            lambda name=name, wrong=wrong: download(stack.stub, tenant, name, wrong), grpc.StatusCode.INVALID_ARGUMENT
        )
