"""The upload domain's plain data: uploads on their way in, and finished files."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from tsforge.tabular.profiling import FileProfile


class Role(enum.IntEnum):
    """Mirrors tsforge.common.v1.FeatureRole."""

    INPUT = 1
    OUTPUT = 2


class UploadState(enum.IntEnum):
    """Mirrors tsforge.upload.v1.UploadState, plus the internal COMPLETING step."""

    ACTIVE = 1
    COMPLETED = 2
    # Parts assembled, being checksummed and profiled; not visible as its own API state.
    COMPLETING = 100


@dataclass(frozen=True)
class Upload:
    id: str
    tenant: str
    file_name: str
    role: Role
    state: UploadState
    display_name: str
    description: str
    declared_size_bytes: int
    declared_sha256: str
    received_bytes: int
    object_key: str
    multipart_id: str
    pending_bytes: int
    create_time: datetime
    update_time: datetime

    @property
    def name(self) -> str:
        return f"uploads/{self.id}"


@dataclass(frozen=True)
class StoredFile:
    id: str
    tenant: str
    display_name: str
    description: str
    role: Role
    file_name: str
    size_bytes: int
    sha256: str
    object_key: str
    profile: FileProfile
    create_time: datetime
    update_time: datetime

    @property
    def name(self) -> str:
        return f"files/{self.id}"


@dataclass(frozen=True)
class NewUpload:
    """What a client says about a file before sending it."""

    file_name: str
    role: Role
    display_name: str = ""
    description: str = ""
    declared_size_bytes: int = 0
    declared_sha256: str = ""


@dataclass(frozen=True)
class Page:
    items: list
    next_page_token: str
