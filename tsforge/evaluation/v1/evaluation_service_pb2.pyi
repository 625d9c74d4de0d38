import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tsforge.common.v1 import common_pb2 as _common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as _evaluation_resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlotKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLOT_KIND_UNSPECIFIED: _ClassVar[PlotKind]
    PLOT_KIND_PREDICTION_VS_ACTUAL: _ClassVar[PlotKind]
    PLOT_KIND_RESIDUAL_HISTOGRAM: _ClassVar[PlotKind]
    PLOT_KIND_ERROR_PER_STEP: _ClassVar[PlotKind]
    PLOT_KIND_LOSS_CURVES: _ClassVar[PlotKind]
    PLOT_KIND_DATASET_VIOLINS: _ClassVar[PlotKind]
PLOT_KIND_UNSPECIFIED: PlotKind
PLOT_KIND_PREDICTION_VS_ACTUAL: PlotKind
PLOT_KIND_RESIDUAL_HISTOGRAM: PlotKind
PLOT_KIND_ERROR_PER_STEP: PlotKind
PLOT_KIND_LOSS_CURVES: PlotKind
PLOT_KIND_DATASET_VIOLINS: PlotKind

class CreateEvaluationRequest(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: _evaluation_resources_pb2.Evaluation
    def __init__(self, evaluation: _Optional[_Union[_evaluation_resources_pb2.Evaluation, _Mapping]] = ...) -> None: ...

class CreateEvaluationResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: _evaluation_resources_pb2.Evaluation
    def __init__(self, evaluation: _Optional[_Union[_evaluation_resources_pb2.Evaluation, _Mapping]] = ...) -> None: ...

class WatchEvaluationRequest(_message.Message):
    __slots__ = ("name", "after_sequence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    after_sequence: int
    def __init__(self, name: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class WatchEvaluationResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _evaluation_resources_pb2.EvaluationEvent
    def __init__(self, event: _Optional[_Union[_evaluation_resources_pb2.EvaluationEvent, _Mapping]] = ...) -> None: ...

class GetEvaluationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetEvaluationResponse(_message.Message):
    __slots__ = ("evaluation",)
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    evaluation: _evaluation_resources_pb2.Evaluation
    def __init__(self, evaluation: _Optional[_Union[_evaluation_resources_pb2.Evaluation, _Mapping]] = ...) -> None: ...

class ListEvaluationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "run")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    run: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., run: _Optional[str] = ...) -> None: ...

class ListEvaluationsResponse(_message.Message):
    __slots__ = ("evaluations", "next_page_token")
    EVALUATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    evaluations: _containers.RepeatedCompositeFieldContainer[_evaluation_resources_pb2.Evaluation]
    next_page_token: str
    def __init__(self, evaluations: _Optional[_Iterable[_Union[_evaluation_resources_pb2.Evaluation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class MetricTableSelector(_message.Message):
    __slots__ = ("kind", "split", "units", "rank_metric", "models", "features", "exclude_baselines")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    RANK_METRIC_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_BASELINES_FIELD_NUMBER: _ClassVar[int]
    kind: _evaluation_resources_pb2.MetricTableKind
    split: _common_pb2.DataSplit
    units: _evaluation_resources_pb2.ValueUnits
    rank_metric: _evaluation_resources_pb2.Metric
    models: _containers.RepeatedScalarFieldContainer[str]
    features: _containers.RepeatedScalarFieldContainer[str]
    exclude_baselines: bool
    def __init__(self, kind: _Optional[_Union[_evaluation_resources_pb2.MetricTableKind, int, str]] = ..., split: _Optional[_Union[_common_pb2.DataSplit, int, str]] = ..., units: _Optional[_Union[_evaluation_resources_pb2.ValueUnits, int, str]] = ..., rank_metric: _Optional[_Union[_evaluation_resources_pb2.Metric, int, str]] = ..., models: _Optional[_Iterable[str]] = ..., features: _Optional[_Iterable[str]] = ..., exclude_baselines: _Optional[bool] = ...) -> None: ...

class ReadMetricTableRequest(_message.Message):
    __slots__ = ("name", "table", "page_size", "page_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    table: MetricTableSelector
    page_size: int
    page_token: str
    def __init__(self, name: _Optional[str] = ..., table: _Optional[_Union[MetricTableSelector, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ReadMetricTableResponse(_message.Message):
    __slots__ = ("table", "next_page_token")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    table: _evaluation_resources_pb2.MetricTable
    next_page_token: str
    def __init__(self, table: _Optional[_Union[_evaluation_resources_pb2.MetricTable, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ExportMetricTableRequest(_message.Message):
    __slots__ = ("name", "table")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    table: MetricTableSelector
    def __init__(self, name: _Optional[str] = ..., table: _Optional[_Union[MetricTableSelector, _Mapping]] = ...) -> None: ...

class ExportMetricTableResponse(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: _common_pb2.DownloadHeader
    chunk: bytes
    def __init__(self, header: _Optional[_Union[_common_pb2.DownloadHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class RenderPlotRequest(_message.Message):
    __slots__ = ("name", "kind", "feature", "models", "forecast_step", "start_time", "end_time", "split", "metric", "units", "width_px", "height_px", "dpi")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    FORECAST_STEP_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    WIDTH_PX_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_PX_FIELD_NUMBER: _ClassVar[int]
    DPI_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: PlotKind
    feature: str
    models: _containers.RepeatedScalarFieldContainer[str]
    forecast_step: int
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    split: _common_pb2.DataSplit
    metric: _evaluation_resources_pb2.Metric
    units: _evaluation_resources_pb2.ValueUnits
    width_px: int
    height_px: int
    dpi: int
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[PlotKind, int, str]] = ..., feature: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., forecast_step: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., split: _Optional[_Union[_common_pb2.DataSplit, int, str]] = ..., metric: _Optional[_Union[_evaluation_resources_pb2.Metric, int, str]] = ..., units: _Optional[_Union[_evaluation_resources_pb2.ValueUnits, int, str]] = ..., width_px: _Optional[int] = ..., height_px: _Optional[int] = ..., dpi: _Optional[int] = ...) -> None: ...

class RenderPlotResponse(_message.Message):
    __slots__ = ("content_type", "data")
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    data: bytes
    def __init__(self, content_type: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...
