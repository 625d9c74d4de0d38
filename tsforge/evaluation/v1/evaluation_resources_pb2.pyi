import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from tsforge.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    METRIC_MAE: _ClassVar[Metric]
    METRIC_MAPE: _ClassVar[Metric]
    METRIC_MSE: _ClassVar[Metric]
    METRIC_RMSE: _ClassVar[Metric]
    METRIC_NRMSE_MEAN: _ClassVar[Metric]
    METRIC_NRMSE_RANGE: _ClassVar[Metric]
    METRIC_WAPE: _ClassVar[Metric]
    METRIC_SMAPE: _ClassVar[Metric]
    METRIC_MASE: _ClassVar[Metric]

class ValueUnits(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_UNITS_UNSPECIFIED: _ClassVar[ValueUnits]
    VALUE_UNITS_ORIGINAL: _ClassVar[ValueUnits]
    VALUE_UNITS_SCALED: _ClassVar[ValueUnits]

class Baseline(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BASELINE_UNSPECIFIED: _ClassVar[Baseline]
    BASELINE_NAIVE: _ClassVar[Baseline]
    BASELINE_SEASONAL_NAIVE: _ClassVar[Baseline]
    BASELINE_TRAINING_MEAN: _ClassVar[Baseline]

class IntervalMetric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERVAL_METRIC_UNSPECIFIED: _ClassVar[IntervalMetric]
    INTERVAL_METRIC_COVERAGE: _ClassVar[IntervalMetric]
    INTERVAL_METRIC_MEAN_WIDTH: _ClassVar[IntervalMetric]
    INTERVAL_METRIC_PINBALL: _ClassVar[IntervalMetric]
    INTERVAL_METRIC_WINKLER: _ClassVar[IntervalMetric]

class MetricTableKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_TABLE_KIND_UNSPECIFIED: _ClassVar[MetricTableKind]
    METRIC_TABLE_KIND_OVERALL: _ClassVar[MetricTableKind]
    METRIC_TABLE_KIND_PER_STEP: _ClassVar[MetricTableKind]
    METRIC_TABLE_KIND_AGGREGATED: _ClassVar[MetricTableKind]
    METRIC_TABLE_KIND_SKILL: _ClassVar[MetricTableKind]
    METRIC_TABLE_KIND_RANKING: _ClassVar[MetricTableKind]
    METRIC_TABLE_KIND_INTERVALS: _ClassVar[MetricTableKind]

class EvaluationState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVALUATION_STATE_UNSPECIFIED: _ClassVar[EvaluationState]
    EVALUATION_STATE_COMPUTING: _ClassVar[EvaluationState]
    EVALUATION_STATE_READY: _ClassVar[EvaluationState]
    EVALUATION_STATE_FAILED: _ClassVar[EvaluationState]
    EVALUATION_STATE_QUEUED: _ClassVar[EvaluationState]
METRIC_UNSPECIFIED: Metric
METRIC_MAE: Metric
METRIC_MAPE: Metric
METRIC_MSE: Metric
METRIC_RMSE: Metric
METRIC_NRMSE_MEAN: Metric
METRIC_NRMSE_RANGE: Metric
METRIC_WAPE: Metric
METRIC_SMAPE: Metric
METRIC_MASE: Metric
VALUE_UNITS_UNSPECIFIED: ValueUnits
VALUE_UNITS_ORIGINAL: ValueUnits
VALUE_UNITS_SCALED: ValueUnits
BASELINE_UNSPECIFIED: Baseline
BASELINE_NAIVE: Baseline
BASELINE_SEASONAL_NAIVE: Baseline
BASELINE_TRAINING_MEAN: Baseline
INTERVAL_METRIC_UNSPECIFIED: IntervalMetric
INTERVAL_METRIC_COVERAGE: IntervalMetric
INTERVAL_METRIC_MEAN_WIDTH: IntervalMetric
INTERVAL_METRIC_PINBALL: IntervalMetric
INTERVAL_METRIC_WINKLER: IntervalMetric
METRIC_TABLE_KIND_UNSPECIFIED: MetricTableKind
METRIC_TABLE_KIND_OVERALL: MetricTableKind
METRIC_TABLE_KIND_PER_STEP: MetricTableKind
METRIC_TABLE_KIND_AGGREGATED: MetricTableKind
METRIC_TABLE_KIND_SKILL: MetricTableKind
METRIC_TABLE_KIND_RANKING: MetricTableKind
METRIC_TABLE_KIND_INTERVALS: MetricTableKind
EVALUATION_STATE_UNSPECIFIED: EvaluationState
EVALUATION_STATE_COMPUTING: EvaluationState
EVALUATION_STATE_READY: EvaluationState
EVALUATION_STATE_FAILED: EvaluationState
EVALUATION_STATE_QUEUED: EvaluationState

class MetricValue(_message.Message):
    __slots__ = ("value", "undefined_reason")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UNDEFINED_REASON_FIELD_NUMBER: _ClassVar[int]
    value: float
    undefined_reason: str
    def __init__(self, value: _Optional[float] = ..., undefined_reason: _Optional[str] = ...) -> None: ...

class MetricScore(_message.Message):
    __slots__ = ("metric", "value")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    value: MetricValue
    def __init__(self, metric: _Optional[_Union[Metric, int, str]] = ..., value: _Optional[_Union[MetricValue, _Mapping]] = ...) -> None: ...

class BaselineForecast(_message.Message):
    __slots__ = ("baseline", "season_steps", "label")
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    SEASON_STEPS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    baseline: Baseline
    season_steps: int
    label: str
    def __init__(self, baseline: _Optional[_Union[Baseline, int, str]] = ..., season_steps: _Optional[int] = ..., label: _Optional[str] = ...) -> None: ...

class IntervalScore(_message.Message):
    __slots__ = ("metric", "value")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    metric: IntervalMetric
    value: MetricValue
    def __init__(self, metric: _Optional[_Union[IntervalMetric, int, str]] = ..., value: _Optional[_Union[MetricValue, _Mapping]] = ...) -> None: ...

class MetricTableRow(_message.Message):
    __slots__ = ("model", "model_type", "baseline", "feature", "step", "aggregation_steps", "step_width_minutes", "rank", "scores", "season_steps", "baseline_label", "skill", "interval_level", "interval_scores")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    AGGREGATION_STEPS_FIELD_NUMBER: _ClassVar[int]
    STEP_WIDTH_MINUTES_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    SEASON_STEPS_FIELD_NUMBER: _ClassVar[int]
    BASELINE_LABEL_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_LEVEL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_SCORES_FIELD_NUMBER: _ClassVar[int]
    model: str
    model_type: _common_pb2.ModelType
    baseline: Baseline
    feature: str
    step: int
    aggregation_steps: int
    step_width_minutes: float
    rank: int
    scores: _containers.RepeatedCompositeFieldContainer[MetricScore]
    season_steps: int
    baseline_label: str
    skill: _containers.RepeatedCompositeFieldContainer[MetricScore]
    interval_level: float
    interval_scores: _containers.RepeatedCompositeFieldContainer[IntervalScore]
    def __init__(self, model: _Optional[str] = ..., model_type: _Optional[_Union[_common_pb2.ModelType, int, str]] = ..., baseline: _Optional[_Union[Baseline, int, str]] = ..., feature: _Optional[str] = ..., step: _Optional[int] = ..., aggregation_steps: _Optional[int] = ..., step_width_minutes: _Optional[float] = ..., rank: _Optional[int] = ..., scores: _Optional[_Iterable[_Union[MetricScore, _Mapping]]] = ..., season_steps: _Optional[int] = ..., baseline_label: _Optional[str] = ..., skill: _Optional[_Iterable[_Union[MetricScore, _Mapping]]] = ..., interval_level: _Optional[float] = ..., interval_scores: _Optional[_Iterable[_Union[IntervalScore, _Mapping]]] = ...) -> None: ...

class MetricTable(_message.Message):
    __slots__ = ("kind", "split", "units", "rank_metric", "rows", "reference_baseline")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    RANK_METRIC_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_BASELINE_FIELD_NUMBER: _ClassVar[int]
    kind: MetricTableKind
    split: _common_pb2.DataSplit
    units: ValueUnits
    rank_metric: Metric
    rows: _containers.RepeatedCompositeFieldContainer[MetricTableRow]
    reference_baseline: BaselineForecast
    def __init__(self, kind: _Optional[_Union[MetricTableKind, int, str]] = ..., split: _Optional[_Union[_common_pb2.DataSplit, int, str]] = ..., units: _Optional[_Union[ValueUnits, int, str]] = ..., rank_metric: _Optional[_Union[Metric, int, str]] = ..., rows: _Optional[_Iterable[_Union[MetricTableRow, _Mapping]]] = ..., reference_baseline: _Optional[_Union[BaselineForecast, _Mapping]] = ...) -> None: ...

class EvaluationOptions(_message.Message):
    __slots__ = ("season_steps", "infer_season", "seasons", "baseline_metric")
    SEASON_STEPS_FIELD_NUMBER: _ClassVar[int]
    INFER_SEASON_FIELD_NUMBER: _ClassVar[int]
    SEASONS_FIELD_NUMBER: _ClassVar[int]
    BASELINE_METRIC_FIELD_NUMBER: _ClassVar[int]
    season_steps: int
    infer_season: bool
    seasons: _containers.RepeatedScalarFieldContainer[int]
    baseline_metric: Metric
    def __init__(self, season_steps: _Optional[int] = ..., infer_season: _Optional[bool] = ..., seasons: _Optional[_Iterable[int]] = ..., baseline_metric: _Optional[_Union[Metric, int, str]] = ...) -> None: ...

class BaselineComparison(_message.Message):
    __slots__ = ("metric", "units", "best_baseline", "best_baseline_value", "models_beating_baseline", "best_model", "best_model_value")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    BEST_BASELINE_FIELD_NUMBER: _ClassVar[int]
    BEST_BASELINE_VALUE_FIELD_NUMBER: _ClassVar[int]
    MODELS_BEATING_BASELINE_FIELD_NUMBER: _ClassVar[int]
    BEST_MODEL_FIELD_NUMBER: _ClassVar[int]
    BEST_MODEL_VALUE_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    units: ValueUnits
    best_baseline: BaselineForecast
    best_baseline_value: MetricValue
    models_beating_baseline: _containers.RepeatedScalarFieldContainer[str]
    best_model: str
    best_model_value: MetricValue
    def __init__(self, metric: _Optional[_Union[Metric, int, str]] = ..., units: _Optional[_Union[ValueUnits, int, str]] = ..., best_baseline: _Optional[_Union[BaselineForecast, _Mapping]] = ..., best_baseline_value: _Optional[_Union[MetricValue, _Mapping]] = ..., models_beating_baseline: _Optional[_Iterable[str]] = ..., best_model: _Optional[str] = ..., best_model_value: _Optional[_Union[MetricValue, _Mapping]] = ...) -> None: ...

class Evaluation(_message.Message):
    __slots__ = ("name", "run", "model", "options", "state", "failure_reason", "models", "features", "overall_tables", "create_time", "baselines", "baseline_comparison", "start_time", "end_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OVERALL_TABLES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    BASELINES_FIELD_NUMBER: _ClassVar[int]
    BASELINE_COMPARISON_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    run: str
    model: str
    options: EvaluationOptions
    state: EvaluationState
    failure_reason: str
    models: _containers.RepeatedScalarFieldContainer[str]
    features: _containers.RepeatedScalarFieldContainer[str]
    overall_tables: _containers.RepeatedCompositeFieldContainer[MetricTable]
    create_time: _timestamp_pb2.Timestamp
    baselines: _containers.RepeatedCompositeFieldContainer[BaselineForecast]
    baseline_comparison: BaselineComparison
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., run: _Optional[str] = ..., model: _Optional[str] = ..., options: _Optional[_Union[EvaluationOptions, _Mapping]] = ..., state: _Optional[_Union[EvaluationState, int, str]] = ..., failure_reason: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ..., features: _Optional[_Iterable[str]] = ..., overall_tables: _Optional[_Iterable[_Union[MetricTable, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., baselines: _Optional[_Iterable[_Union[BaselineForecast, _Mapping]]] = ..., baseline_comparison: _Optional[_Union[BaselineComparison, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EvaluationStateChange(_message.Message):
    __slots__ = ("state", "reason")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    state: EvaluationState
    reason: str
    def __init__(self, state: _Optional[_Union[EvaluationState, int, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class EvaluationProgress(_message.Message):
    __slots__ = ("stage", "done", "total", "eta", "model", "split")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    stage: str
    done: int
    total: int
    eta: _duration_pb2.Duration
    model: str
    split: _common_pb2.DataSplit
    def __init__(self, stage: _Optional[str] = ..., done: _Optional[int] = ..., total: _Optional[int] = ..., eta: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., model: _Optional[str] = ..., split: _Optional[_Union[_common_pb2.DataSplit, int, str]] = ...) -> None: ...

class EvaluationEvent(_message.Message):
    __slots__ = ("sequence", "time", "state_change", "progress")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    time: _timestamp_pb2.Timestamp
    state_change: EvaluationStateChange
    progress: EvaluationProgress
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state_change: _Optional[_Union[EvaluationStateChange, _Mapping]] = ..., progress: _Optional[_Union[EvaluationProgress, _Mapping]] = ...) -> None: ...
