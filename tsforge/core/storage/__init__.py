"""The shared object store: one interface, a local-directory and an S3/MinIO implementation."""

from tsforge.core.storage.base import ObjectNotFound, ObjectStore, ObjectStoreError
from tsforge.core.storage.local import LocalObjectStore
from tsforge.core.storage.s3 import S3ObjectStore

__all__ = [
    "LocalObjectStore",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStoreError",
    "S3ObjectStore",
]
