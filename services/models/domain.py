"""The registry's records as plain data, as the repository returns them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RegisteredModel:
    name: str  # the id, e.g. "load-forecast"
    description: str
    tags: dict[str, str]
    latest_version: int
    aliases: dict[str, int]
    create_time: datetime
    update_time: datetime


@dataclass(frozen=True)
class NewVersion:
    """What registration stores: the lineage and object refs as serialized protobuf."""

    source_model: str
    lineage: bytes
    model_type: int
    artifact_format: int
    formats: tuple[int, ...]
    storage_prefix: str
    artifact: bytes
    bundle: bytes
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelVersion(NewVersion):
    model_name: str = ""
    version: int = 0
    aliases: tuple[str, ...] = ()
    create_time: datetime | None = None
    update_time: datetime | None = None
