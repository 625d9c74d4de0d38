"""A version's objects under the registry's own "models/" prefix: written once at
registration, streamed on download, deleted with the version. Their bytes count against
the tenant's quota (the repository records them); so does an .h5 converted on first
download, which is kept only while the quota has room for it."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator

from services.models.bundle import KERAS_TYPES
from services.models.domain import ModelVersion
from tsforge.common.v1 import common_pb2
from tsforge.core.errors import FieldViolation, InvalidArgument, NotFound
from tsforge.core.storage import ObjectNotFound, ObjectStore

CHUNK_BYTES = 1 << 20
_FILES: dict[int, tuple[str, str]] = {
    common_pb2.ARTIFACT_FORMAT_KERAS: ("model.keras", "application/x-keras"),
    common_pb2.ARTIFACT_FORMAT_JOBLIB: ("model.joblib", "application/x-joblib"),
    common_pb2.ARTIFACT_FORMAT_H5: ("model.h5", "application/x-hdf5"),
    common_pb2.ARTIFACT_FORMAT_BUNDLE: ("bundle.zip", "application/zip"),
    common_pb2.ARTIFACT_FORMAT_LIGHTGBM: ("model.lightgbm.json", "application/json"),
    common_pb2.ARTIFACT_FORMAT_ENSEMBLE: ("model.ensemble.zip", "application/zip"),
}


def _ref(store: ObjectStore, key: str, data: bytes, content_type: str) -> common_pb2.ObjectRef:
    size = store.put(key, [data])
    return common_pb2.ObjectRef(
        key=key, size_bytes=size, sha256=hashlib.sha256(data).hexdigest(), content_type=content_type
    )


# (tenant, model, version, bytes of the derived object) -> whether it may be kept.
CountDerived = Callable[[str, str, int, int], bool]


class VersionObjects:
    def __init__(self, store: ObjectStore, count_derived: CountDerived | None = None):
        self._store = store
        self._count_derived = count_derived

    def write(
        self, tenant: str, model: str, artifact: bytes, artifact_format: int, bundle: bytes
    ) -> tuple[str, common_pb2.ObjectRef, common_pb2.ObjectRef]:
        """(storage prefix, artifact ref, bundle ref). The prefix is unique per call, so
        objects are in place before the version row that names them exists."""
        prefix = f"models/{tenant}/{model}/{uuid.uuid4().hex}/"
        try:
            file_name, content_type = _FILES[artifact_format]
            artifact_ref = _ref(self._store, prefix + file_name, artifact, content_type)
            bundle_ref = _ref(self._store, prefix + "bundle.zip", bundle, "application/zip")
        except BaseException:
            self.delete(prefix)
            raise
        return prefix, artifact_ref, bundle_ref

    def read_source(self, ref: common_pb2.ObjectRef) -> bytes | None:
        """The bytes of another service's object `ref` names, or None when this store
        does not hold exactly those bytes (absent, or a different size or SHA-256)."""
        if not ref.key:
            return None
        try:
            data = b"".join(self._store.read(ref.key))
        except (ObjectNotFound, ValueError):
            return None
        if len(data) != ref.size_bytes or hashlib.sha256(data).hexdigest() != ref.sha256:
            return None
        return data

    def delete(self, prefix: str) -> None:
        self._store.delete_prefix(prefix)

    def open(
        self, tenant: str, version: ModelVersion, format: int, name: str
    ) -> tuple[common_pb2.DownloadHeader, Iterator[bytes]]:
        """The header and chunks of a version in `format` (UNSPECIFIED: BUNDLE).

        Raises InvalidArgument for a format the model type does not offer.
        """
        format = format or common_pb2.ARTIFACT_FORMAT_BUNDLE
        if format not in version.formats:
            offered = ", ".join(common_pb2.ArtifactFormat.Name(f) for f in version.formats)
            raise InvalidArgument(
                FieldViolation(
                    "format",
                    f"{common_pb2.ArtifactFormat.Name(format)} is not offered "
                    f"for {common_pb2.ModelType.Name(version.model_type)} "
                    f"models; choose one of {offered}",
                )
            )
        converted = None
        if format == common_pb2.ARTIFACT_FORMAT_BUNDLE:
            ref = common_pb2.ObjectRef.FromString(version.bundle)
        elif format == common_pb2.ARTIFACT_FORMAT_H5:
            ref, converted = self._h5(tenant, version)
        else:
            ref = common_pb2.ObjectRef.FromString(version.artifact)
        if converted is not None:
            chunks = iter([converted[i : i + CHUNK_BYTES] for i in range(0, len(converted), CHUNK_BYTES)])
        else:
            try:
                chunks = self._store.read(ref.key, chunk_size=CHUNK_BYTES)
            except ObjectNotFound:
                raise NotFound(name) from None
        file_name = f"{version.model_name}-v{version.version}-{_FILES[format][0]}"
        return common_pb2.DownloadHeader(
            size_bytes=ref.size_bytes, sha256=ref.sha256, content_type=ref.content_type, file_name=file_name
        ), chunks

    def read_artifact(self, version: ModelVersion) -> bytes:
        return b"".join(self._store.read(common_pb2.ObjectRef.FromString(version.artifact).key))

    def _h5(self, tenant: str, version: ModelVersion) -> tuple[common_pb2.ObjectRef, bytes | None]:
        """The .h5's ref, and its bytes when they are served without being kept (the
        tenant's quota has no room for them)."""
        # Converted on the first request (it needs TensorFlow), then kept beside the
        # artifact; a concurrent first request writes the same bytes atomically.
        assert version.model_type in KERAS_TYPES
        key = version.storage_prefix + "model.h5"
        served = None
        try:
            data = b"".join(self._store.read(key))
        except ObjectNotFound:
            from services.models.keras_formats import keras_to_h5

            data = keras_to_h5(self.read_artifact(version))
            count = self._count_derived or (lambda *_: True)
            if count(tenant, version.model_name, version.version, len(data)):
                try:
                    self._store.put(key, [data])
                except BaseException:
                    count(tenant, version.model_name, version.version, 0)
                    raise
            else:
                served = data
        ref = common_pb2.ObjectRef(
            key=key, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), content_type="application/x-hdf5"
        )
        return ref, served
