import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tsforge.common.v1 import common_pb2 as _common_pb2
from tsforge.models.v1 import models_resources_pb2 as _models_resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisterModelVersionRequest(_message.Message):
    __slots__ = ("parent", "model_version", "registered_model_description")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_MODEL_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    parent: str
    model_version: _models_resources_pb2.ModelVersion
    registered_model_description: str
    def __init__(self, parent: _Optional[str] = ..., model_version: _Optional[_Union[_models_resources_pb2.ModelVersion, _Mapping]] = ..., registered_model_description: _Optional[str] = ...) -> None: ...

class RegisterModelVersionResponse(_message.Message):
    __slots__ = ("model_version",)
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model_version: _models_resources_pb2.ModelVersion
    def __init__(self, model_version: _Optional[_Union[_models_resources_pb2.ModelVersion, _Mapping]] = ...) -> None: ...

class GetRegisteredModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRegisteredModelResponse(_message.Message):
    __slots__ = ("registered_model",)
    REGISTERED_MODEL_FIELD_NUMBER: _ClassVar[int]
    registered_model: _models_resources_pb2.RegisteredModel
    def __init__(self, registered_model: _Optional[_Union[_models_resources_pb2.RegisteredModel, _Mapping]] = ...) -> None: ...

class ListRegisteredModelsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "name_prefix", "tag")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    name_prefix: str
    tag: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name_prefix: _Optional[str] = ..., tag: _Optional[str] = ...) -> None: ...

class ListRegisteredModelsResponse(_message.Message):
    __slots__ = ("registered_models", "next_page_token")
    REGISTERED_MODELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    registered_models: _containers.RepeatedCompositeFieldContainer[_models_resources_pb2.RegisteredModel]
    next_page_token: str
    def __init__(self, registered_models: _Optional[_Iterable[_Union[_models_resources_pb2.RegisteredModel, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateRegisteredModelRequest(_message.Message):
    __slots__ = ("registered_model", "update_mask")
    REGISTERED_MODEL_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    registered_model: _models_resources_pb2.RegisteredModel
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, registered_model: _Optional[_Union[_models_resources_pb2.RegisteredModel, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateRegisteredModelResponse(_message.Message):
    __slots__ = ("registered_model",)
    REGISTERED_MODEL_FIELD_NUMBER: _ClassVar[int]
    registered_model: _models_resources_pb2.RegisteredModel
    def __init__(self, registered_model: _Optional[_Union[_models_resources_pb2.RegisteredModel, _Mapping]] = ...) -> None: ...

class DeleteRegisteredModelRequest(_message.Message):
    __slots__ = ("name", "force")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    force: bool
    def __init__(self, name: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class DeleteRegisteredModelResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetModelVersionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetModelVersionResponse(_message.Message):
    __slots__ = ("model_version",)
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model_version: _models_resources_pb2.ModelVersion
    def __init__(self, model_version: _Optional[_Union[_models_resources_pb2.ModelVersion, _Mapping]] = ...) -> None: ...

class ListModelVersionsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListModelVersionsResponse(_message.Message):
    __slots__ = ("model_versions", "next_page_token")
    MODEL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    model_versions: _containers.RepeatedCompositeFieldContainer[_models_resources_pb2.ModelVersion]
    next_page_token: str
    def __init__(self, model_versions: _Optional[_Iterable[_Union[_models_resources_pb2.ModelVersion, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateModelVersionRequest(_message.Message):
    __slots__ = ("model_version", "update_mask")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    model_version: _models_resources_pb2.ModelVersion
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, model_version: _Optional[_Union[_models_resources_pb2.ModelVersion, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateModelVersionResponse(_message.Message):
    __slots__ = ("model_version",)
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    model_version: _models_resources_pb2.ModelVersion
    def __init__(self, model_version: _Optional[_Union[_models_resources_pb2.ModelVersion, _Mapping]] = ...) -> None: ...

class DeleteModelVersionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteModelVersionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetAliasRequest(_message.Message):
    __slots__ = ("name", "alias", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    alias: str
    version: int
    def __init__(self, name: _Optional[str] = ..., alias: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class SetAliasResponse(_message.Message):
    __slots__ = ("registered_model",)
    REGISTERED_MODEL_FIELD_NUMBER: _ClassVar[int]
    registered_model: _models_resources_pb2.RegisteredModel
    def __init__(self, registered_model: _Optional[_Union[_models_resources_pb2.RegisteredModel, _Mapping]] = ...) -> None: ...

class DeleteAliasRequest(_message.Message):
    __slots__ = ("name", "alias")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    name: str
    alias: str
    def __init__(self, name: _Optional[str] = ..., alias: _Optional[str] = ...) -> None: ...

class DeleteAliasResponse(_message.Message):
    __slots__ = ("registered_model",)
    REGISTERED_MODEL_FIELD_NUMBER: _ClassVar[int]
    registered_model: _models_resources_pb2.RegisteredModel
    def __init__(self, registered_model: _Optional[_Union[_models_resources_pb2.RegisteredModel, _Mapping]] = ...) -> None: ...

class DownloadModelVersionRequest(_message.Message):
    __slots__ = ("name", "format")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    name: str
    format: _common_pb2.ArtifactFormat
    def __init__(self, name: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.ArtifactFormat, int, str]] = ...) -> None: ...

class DownloadModelVersionResponse(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: _common_pb2.DownloadHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[_common_pb2.DownloadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class FileInput(_message.Message):
    __slots__ = ("feature", "file", "column")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    feature: str
    file: str
    column: str
    def __init__(self, feature: _Optional[str] = ..., file: _Optional[str] = ..., column: _Optional[str] = ...) -> None: ...

class FileInputs(_message.Message):
    __slots__ = ("inputs",)
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[FileInput]
    def __init__(self, inputs: _Optional[_Iterable[_Union[FileInput, _Mapping]]] = ...) -> None: ...

class InlineSeries(_message.Message):
    __slots__ = ("feature", "times", "values")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    TIMES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    feature: str
    times: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, feature: _Optional[str] = ..., times: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ..., values: _Optional[_Iterable[float]] = ...) -> None: ...

class InlineInputs(_message.Message):
    __slots__ = ("series",)
    SERIES_FIELD_NUMBER: _ClassVar[int]
    series: _containers.RepeatedCompositeFieldContainer[InlineSeries]
    def __init__(self, series: _Optional[_Iterable[_Union[InlineSeries, _Mapping]]] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("name", "files", "series", "reference_times")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_TIMES_FIELD_NUMBER: _ClassVar[int]
    name: str
    files: FileInputs
    series: InlineInputs
    reference_times: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    def __init__(self, name: _Optional[str] = ..., files: _Optional[_Union[FileInputs, _Mapping]] = ..., series: _Optional[_Union[InlineInputs, _Mapping]] = ..., reference_times: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ...) -> None: ...

class FeatureForecast(_message.Message):
    __slots__ = ("feature", "values", "intervals")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    feature: str
    values: _containers.RepeatedScalarFieldContainer[float]
    intervals: _containers.RepeatedCompositeFieldContainer[ForecastInterval]
    def __init__(self, feature: _Optional[str] = ..., values: _Optional[_Iterable[float]] = ..., intervals: _Optional[_Iterable[_Union[ForecastInterval, _Mapping]]] = ...) -> None: ...

class ForecastInterval(_message.Message):
    __slots__ = ("level", "lower", "upper")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    level: float
    lower: _containers.RepeatedScalarFieldContainer[float]
    upper: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, level: _Optional[float] = ..., lower: _Optional[_Iterable[float]] = ..., upper: _Optional[_Iterable[float]] = ...) -> None: ...

class FeatureSteps(_message.Message):
    __slots__ = ("feature", "offsets")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    OFFSETS_FIELD_NUMBER: _ClassVar[int]
    feature: str
    offsets: _containers.RepeatedCompositeFieldContainer[_duration_pb2.Duration]
    def __init__(self, feature: _Optional[str] = ..., offsets: _Optional[_Iterable[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]]] = ...) -> None: ...

class Forecast(_message.Message):
    __slots__ = ("reference_time", "features")
    REFERENCE_TIME_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    reference_time: _timestamp_pb2.Timestamp
    features: _containers.RepeatedCompositeFieldContainer[FeatureForecast]
    def __init__(self, reference_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., features: _Optional[_Iterable[_Union[FeatureForecast, _Mapping]]] = ...) -> None: ...

class PredictResponse(_message.Message):
    __slots__ = ("model_version", "forecasts", "steps")
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    FORECASTS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    model_version: str
    forecasts: _containers.RepeatedCompositeFieldContainer[Forecast]
    steps: _containers.RepeatedCompositeFieldContainer[FeatureSteps]
    def __init__(self, model_version: _Optional[str] = ..., forecasts: _Optional[_Iterable[_Union[Forecast, _Mapping]]] = ..., steps: _Optional[_Iterable[_Union[FeatureSteps, _Mapping]]] = ...) -> None: ...
