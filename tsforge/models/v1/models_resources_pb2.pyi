import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tsforge.common.v1 import common_pb2 as _common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as _evaluation_resources_pb2
from tsforge.training.v1 import training_resources_pb2 as _training_resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegisteredModel(_message.Message):
    __slots__ = ("name", "description", "tags", "latest_version", "aliases", "create_time", "update_time")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AliasesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    tags: _containers.ScalarMap[str, str]
    latest_version: int
    aliases: _containers.ScalarMap[str, int]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., latest_version: _Optional[int] = ..., aliases: _Optional[_Mapping[str, int]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ModelLineage(_message.Message):
    __slots__ = ("session", "dataset", "run", "model", "model_type", "model_spec", "dataset_spec", "input_feature_names", "output_feature_names", "scalers", "evaluation", "metrics", "gap_tolerance", "baseline_comparison", "intervals", "required_series")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    MODEL_SPEC_FIELD_NUMBER: _ClassVar[int]
    DATASET_SPEC_FIELD_NUMBER: _ClassVar[int]
    INPUT_FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    SCALERS_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    GAP_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    BASELINE_COMPARISON_FIELD_NUMBER: _ClassVar[int]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SERIES_FIELD_NUMBER: _ClassVar[int]
    session: str
    dataset: str
    run: str
    model: str
    model_type: _common_pb2.ModelType
    model_spec: _training_resources_pb2.ModelSpec
    dataset_spec: _training_resources_pb2.DatasetSpec
    input_feature_names: _containers.RepeatedScalarFieldContainer[str]
    output_feature_names: _containers.RepeatedScalarFieldContainer[str]
    scalers: _containers.RepeatedCompositeFieldContainer[_training_resources_pb2.FeatureScaler]
    evaluation: str
    metrics: _containers.RepeatedCompositeFieldContainer[_evaluation_resources_pb2.MetricTable]
    gap_tolerance: _duration_pb2.Duration
    baseline_comparison: _evaluation_resources_pb2.BaselineComparison
    intervals: _training_resources_pb2.PredictionIntervals
    required_series: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, session: _Optional[str] = ..., dataset: _Optional[str] = ..., run: _Optional[str] = ..., model: _Optional[str] = ..., model_type: _Optional[_Union[_common_pb2.ModelType, int, str]] = ..., model_spec: _Optional[_Union[_training_resources_pb2.ModelSpec, _Mapping]] = ..., dataset_spec: _Optional[_Union[_training_resources_pb2.DatasetSpec, _Mapping]] = ..., input_feature_names: _Optional[_Iterable[str]] = ..., output_feature_names: _Optional[_Iterable[str]] = ..., scalers: _Optional[_Iterable[_Union[_training_resources_pb2.FeatureScaler, _Mapping]]] = ..., evaluation: _Optional[str] = ..., metrics: _Optional[_Iterable[_Union[_evaluation_resources_pb2.MetricTable, _Mapping]]] = ..., gap_tolerance: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., baseline_comparison: _Optional[_Union[_evaluation_resources_pb2.BaselineComparison, _Mapping]] = ..., intervals: _Optional[_Union[_training_resources_pb2.PredictionIntervals, _Mapping]] = ..., required_series: _Optional[_Iterable[str]] = ...) -> None: ...

class ModelVersion(_message.Message):
    __slots__ = ("name", "version", "source_model", "lineage", "description", "tags", "aliases", "formats", "bundle", "create_time", "update_time", "required_series")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_MODEL_FIELD_NUMBER: _ClassVar[int]
    LINEAGE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    FORMATS_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_SERIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    source_model: str
    lineage: ModelLineage
    description: str
    tags: _containers.ScalarMap[str, str]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    formats: _containers.RepeatedScalarFieldContainer[_common_pb2.ArtifactFormat]
    bundle: _common_pb2.ObjectRef
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    required_series: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., source_model: _Optional[str] = ..., lineage: _Optional[_Union[ModelLineage, _Mapping]] = ..., description: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., aliases: _Optional[_Iterable[str]] = ..., formats: _Optional[_Iterable[_Union[_common_pb2.ArtifactFormat, int, str]]] = ..., bundle: _Optional[_Union[_common_pb2.ObjectRef, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., required_series: _Optional[_Iterable[str]] = ...) -> None: ...
