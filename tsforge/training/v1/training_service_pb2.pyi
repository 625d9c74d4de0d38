import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from tsforge.common.v1 import common_pb2 as _common_pb2
from tsforge.training.v1 import training_resources_pb2 as _training_resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateSessionRequest(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _training_resources_pb2.Session
    def __init__(self, session: _Optional[_Union[_training_resources_pb2.Session, _Mapping]] = ...) -> None: ...

class CreateSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _training_resources_pb2.Session
    def __init__(self, session: _Optional[_Union[_training_resources_pb2.Session, _Mapping]] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _training_resources_pb2.Session
    def __init__(self, session: _Optional[_Union[_training_resources_pb2.Session, _Mapping]] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[_training_resources_pb2.Session]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[_training_resources_pb2.Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateSessionRequest(_message.Message):
    __slots__ = ("session", "update_mask")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    session: _training_resources_pb2.Session
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, session: _Optional[_Union[_training_resources_pb2.Session, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _training_resources_pb2.Session
    def __init__(self, session: _Optional[_Union[_training_resources_pb2.Session, _Mapping]] = ...) -> None: ...

class DeleteSessionRequest(_message.Message):
    __slots__ = ("name", "force")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    force: bool
    def __init__(self, name: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteSessionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BuildDatasetRequest(_message.Message):
    __slots__ = ("parent", "gap_tolerance")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    GAP_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    gap_tolerance: _duration_pb2.Duration
    def __init__(self, parent: _Optional[str] = ..., gap_tolerance: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class BuildDatasetResponse(_message.Message):
    __slots__ = ("dataset",)
    DATASET_FIELD_NUMBER: _ClassVar[int]
    dataset: _training_resources_pb2.Dataset
    def __init__(self, dataset: _Optional[_Union[_training_resources_pb2.Dataset, _Mapping]] = ...) -> None: ...

class GetDatasetRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetDatasetResponse(_message.Message):
    __slots__ = ("dataset",)
    DATASET_FIELD_NUMBER: _ClassVar[int]
    dataset: _training_resources_pb2.Dataset
    def __init__(self, dataset: _Optional[_Union[_training_resources_pb2.Dataset, _Mapping]] = ...) -> None: ...

class ListDatasetsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDatasetsResponse(_message.Message):
    __slots__ = ("datasets", "next_page_token")
    DATASETS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    datasets: _containers.RepeatedCompositeFieldContainer[_training_resources_pb2.Dataset]
    next_page_token: str
    def __init__(self, datasets: _Optional[_Iterable[_Union[_training_resources_pb2.Dataset, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchDatasetBuildRequest(_message.Message):
    __slots__ = ("name", "after_sequence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    after_sequence: int
    def __init__(self, name: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class WatchDatasetBuildResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _training_resources_pb2.DatasetBuildEvent
    def __init__(self, event: _Optional[_Union[_training_resources_pb2.DatasetBuildEvent, _Mapping]] = ...) -> None: ...

class DownloadDatasetObjectRequest(_message.Message):
    __slots__ = ("name", "object_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    object_id: str
    def __init__(self, name: _Optional[str] = ..., object_id: _Optional[str] = ...) -> None: ...

class DownloadDatasetObjectResponse(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: _common_pb2.DownloadHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[_common_pb2.DownloadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class CreateRunRequest(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _training_resources_pb2.Run
    def __init__(self, run: _Optional[_Union[_training_resources_pb2.Run, _Mapping]] = ...) -> None: ...

class CreateRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _training_resources_pb2.Run
    def __init__(self, run: _Optional[_Union[_training_resources_pb2.Run, _Mapping]] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _training_resources_pb2.Run
    def __init__(self, run: _Optional[_Union[_training_resources_pb2.Run, _Mapping]] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "session", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    session: str
    state: _training_resources_pb2.RunState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., session: _Optional[str] = ..., state: _Optional[_Union[_training_resources_pb2.RunState, int, str]] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[_training_resources_pb2.Run]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[_training_resources_pb2.Run, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelRunRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CancelRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: _training_resources_pb2.Run
    def __init__(self, run: _Optional[_Union[_training_resources_pb2.Run, _Mapping]] = ...) -> None: ...

class WatchRunRequest(_message.Message):
    __slots__ = ("name", "after_sequence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    after_sequence: int
    def __init__(self, name: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class WatchRunResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _training_resources_pb2.RunEvent
    def __init__(self, event: _Optional[_Union[_training_resources_pb2.RunEvent, _Mapping]] = ...) -> None: ...

class ReadPredictionsRequest(_message.Message):
    __slots__ = ("name", "split", "history_steps", "rows_per_chunk")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_STEPS_FIELD_NUMBER: _ClassVar[int]
    ROWS_PER_CHUNK_FIELD_NUMBER: _ClassVar[int]
    name: str
    split: _common_pb2.DataSplit
    history_steps: int
    rows_per_chunk: int
    def __init__(self, name: _Optional[str] = ..., split: _Optional[_Union[_common_pb2.DataSplit, int, str]] = ..., history_steps: _Optional[int] = ..., rows_per_chunk: _Optional[int] = ...) -> None: ...

class ReadPredictionsResponse(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: _training_resources_pb2.PredictionsHeader
    chunk: _training_resources_pb2.PredictionsChunk
    def __init__(self, header: _Optional[_Union[_training_resources_pb2.PredictionsHeader, _Mapping]] = ..., chunk: _Optional[_Union[_training_resources_pb2.PredictionsChunk, _Mapping]] = ...) -> None: ...

class DownloadModelArtifactRequest(_message.Message):
    __slots__ = ("name", "format")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    name: str
    format: _common_pb2.ArtifactFormat
    def __init__(self, name: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ArtifactFormat, int, str]] = ...) -> None: ...

class DownloadModelArtifactResponse(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: _common_pb2.DownloadHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[_common_pb2.DownloadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class TrainAutoRequest(_message.Message):
    __slots__ = ("session", "time_limit", "display_name", "gap_tolerance")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    GAP_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    session: str
    time_limit: _duration_pb2.Duration
    display_name: str
    gap_tolerance: _duration_pb2.Duration
    def __init__(self, session: _Optional[str] = ..., time_limit: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., display_name: _Optional[str] = ..., gap_tolerance: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TrainAutoResponse(_message.Message):
    __slots__ = ("dataset", "run", "plan")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    dataset: _training_resources_pb2.Dataset
    run: _training_resources_pb2.Run
    plan: _training_resources_pb2.AutoPlan
    def __init__(self, dataset: _Optional[_Union[_training_resources_pb2.Dataset, _Mapping]] = ..., run: _Optional[_Union[_training_resources_pb2.Run, _Mapping]] = ..., plan: _Optional[_Union[_training_resources_pb2.AutoPlan, _Mapping]] = ...) -> None: ...
