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

class SplitMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPLIT_METHOD_UNSPECIFIED: _ClassVar[SplitMethod]
    SPLIT_METHOD_CHRONOLOGICAL: _ClassVar[SplitMethod]
    SPLIT_METHOD_SHUFFLED: _ClassVar[SplitMethod]

class DatasetState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATASET_STATE_UNSPECIFIED: _ClassVar[DatasetState]
    DATASET_STATE_QUEUED: _ClassVar[DatasetState]
    DATASET_STATE_BUILDING: _ClassVar[DatasetState]
    DATASET_STATE_READY: _ClassVar[DatasetState]
    DATASET_STATE_FAILED: _ClassVar[DatasetState]

class DatasetObjectKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATASET_OBJECT_KIND_UNSPECIFIED: _ClassVar[DatasetObjectKind]
    DATASET_OBJECT_KIND_ARRAYS: _ClassVar[DatasetObjectKind]
    DATASET_OBJECT_KIND_SCALERS: _ClassVar[DatasetObjectKind]
    DATASET_OBJECT_KIND_VIOLIN_PLOT: _ClassVar[DatasetObjectKind]
    DATASET_OBJECT_KIND_HISTORY: _ClassVar[DatasetObjectKind]

class Activation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVATION_UNSPECIFIED: _ClassVar[Activation]
    ACTIVATION_RELU: _ClassVar[Activation]
    ACTIVATION_SIGMOID: _ClassVar[Activation]
    ACTIVATION_TANH: _ClassVar[Activation]
    ACTIVATION_SOFTMAX: _ClassVar[Activation]
    ACTIVATION_LINEAR: _ClassVar[Activation]
    ACTIVATION_ELU: _ClassVar[Activation]
    ACTIVATION_SELU: _ClassVar[Activation]
    ACTIVATION_SOFTPLUS: _ClassVar[Activation]
    ACTIVATION_SOFTSIGN: _ClassVar[Activation]
    ACTIVATION_SWISH: _ClassVar[Activation]
    ACTIVATION_GELU: _ClassVar[Activation]

class SvrKernel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SVR_KERNEL_UNSPECIFIED: _ClassVar[SvrKernel]
    SVR_KERNEL_LINEAR: _ClassVar[SvrKernel]
    SVR_KERNEL_POLY: _ClassVar[SvrKernel]
    SVR_KERNEL_RBF: _ClassVar[SvrKernel]
    SVR_KERNEL_SIGMOID: _ClassVar[SvrKernel]

class LightGbmStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIGHT_GBM_STRATEGY_UNSPECIFIED: _ClassVar[LightGbmStrategy]
    LIGHT_GBM_STRATEGY_DIRECT: _ClassVar[LightGbmStrategy]
    LIGHT_GBM_STRATEGY_STEP_FEATURE: _ClassVar[LightGbmStrategy]

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_QUEUED: _ClassVar[RunState]
    RUN_STATE_RUNNING: _ClassVar[RunState]
    RUN_STATE_SUCCEEDED: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]
    RUN_STATE_CANCELLED: _ClassVar[RunState]

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATE_UNSPECIFIED: _ClassVar[ModelState]
    MODEL_STATE_PENDING: _ClassVar[ModelState]
    MODEL_STATE_RUNNING: _ClassVar[ModelState]
    MODEL_STATE_SUCCEEDED: _ClassVar[ModelState]
    MODEL_STATE_FAILED: _ClassVar[ModelState]
    MODEL_STATE_CANCELLED: _ClassVar[ModelState]
    MODEL_STATE_SKIPPED: _ClassVar[ModelState]

class IntervalMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTERVAL_METHOD_UNSPECIFIED: _ClassVar[IntervalMethod]
    INTERVAL_METHOD_CONFORMAL: _ClassVar[IntervalMethod]
SPLIT_METHOD_UNSPECIFIED: SplitMethod
SPLIT_METHOD_CHRONOLOGICAL: SplitMethod
SPLIT_METHOD_SHUFFLED: SplitMethod
DATASET_STATE_UNSPECIFIED: DatasetState
DATASET_STATE_QUEUED: DatasetState
DATASET_STATE_BUILDING: DatasetState
DATASET_STATE_READY: DatasetState
DATASET_STATE_FAILED: DatasetState
DATASET_OBJECT_KIND_UNSPECIFIED: DatasetObjectKind
DATASET_OBJECT_KIND_ARRAYS: DatasetObjectKind
DATASET_OBJECT_KIND_SCALERS: DatasetObjectKind
DATASET_OBJECT_KIND_VIOLIN_PLOT: DatasetObjectKind
DATASET_OBJECT_KIND_HISTORY: DatasetObjectKind
ACTIVATION_UNSPECIFIED: Activation
ACTIVATION_RELU: Activation
ACTIVATION_SIGMOID: Activation
ACTIVATION_TANH: Activation
ACTIVATION_SOFTMAX: Activation
ACTIVATION_LINEAR: Activation
ACTIVATION_ELU: Activation
ACTIVATION_SELU: Activation
ACTIVATION_SOFTPLUS: Activation
ACTIVATION_SOFTSIGN: Activation
ACTIVATION_SWISH: Activation
ACTIVATION_GELU: Activation
SVR_KERNEL_UNSPECIFIED: SvrKernel
SVR_KERNEL_LINEAR: SvrKernel
SVR_KERNEL_POLY: SvrKernel
SVR_KERNEL_RBF: SvrKernel
SVR_KERNEL_SIGMOID: SvrKernel
LIGHT_GBM_STRATEGY_UNSPECIFIED: LightGbmStrategy
LIGHT_GBM_STRATEGY_DIRECT: LightGbmStrategy
LIGHT_GBM_STRATEGY_STEP_FEATURE: LightGbmStrategy
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_QUEUED: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_SUCCEEDED: RunState
RUN_STATE_FAILED: RunState
RUN_STATE_CANCELLED: RunState
MODEL_STATE_UNSPECIFIED: ModelState
MODEL_STATE_PENDING: ModelState
MODEL_STATE_RUNNING: ModelState
MODEL_STATE_SUCCEEDED: ModelState
MODEL_STATE_FAILED: ModelState
MODEL_STATE_CANCELLED: ModelState
MODEL_STATE_SKIPPED: ModelState
INTERVAL_METHOD_UNSPECIFIED: IntervalMethod
INTERVAL_METHOD_CONFORMAL: IntervalMethod

class FeatureSpec(_message.Message):
    __slots__ = ("file", "column", "feature", "horizon", "resampling", "scaling")
    FILE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    RESAMPLING_FIELD_NUMBER: _ClassVar[int]
    SCALING_FIELD_NUMBER: _ClassVar[int]
    file: str
    column: str
    feature: str
    horizon: _common_pb2.HorizonHours
    resampling: _common_pb2.ResamplingMethod
    scaling: _common_pb2.ScalingRange
    def __init__(self, file: _Optional[str] = ..., column: _Optional[str] = ..., feature: _Optional[str] = ..., horizon: _Optional[_Union[_common_pb2.HorizonHours, _Mapping]] = ..., resampling: _Optional[_Union[_common_pb2.ResamplingMethod, int, str]] = ..., scaling: _Optional[_Union[_common_pb2.ScalingRange, _Mapping]] = ...) -> None: ...

class WindowConfig(_message.Message):
    __slots__ = ("input_steps", "output_steps", "step_minutes", "offset_minutes")
    INPUT_STEPS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_STEPS_FIELD_NUMBER: _ClassVar[int]
    STEP_MINUTES_FIELD_NUMBER: _ClassVar[int]
    OFFSET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    input_steps: int
    output_steps: int
    step_minutes: int
    offset_minutes: int
    def __init__(self, input_steps: _Optional[int] = ..., output_steps: _Optional[int] = ..., step_minutes: _Optional[int] = ..., offset_minutes: _Optional[int] = ...) -> None: ...

class CalendarFeatures(_message.Message):
    __slots__ = ("year", "month", "week", "day", "holiday", "holiday_country", "holiday_subdivision", "time_zone")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    HOLIDAY_FIELD_NUMBER: _ClassVar[int]
    HOLIDAY_COUNTRY_FIELD_NUMBER: _ClassVar[int]
    HOLIDAY_SUBDIVISION_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    year: bool
    month: bool
    week: bool
    day: bool
    holiday: bool
    holiday_country: str
    holiday_subdivision: str
    time_zone: str
    def __init__(self, year: _Optional[bool] = ..., month: _Optional[bool] = ..., week: _Optional[bool] = ..., day: _Optional[bool] = ..., holiday: _Optional[bool] = ..., holiday_country: _Optional[str] = ..., holiday_subdivision: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class LagFeature(_message.Message):
    __slots__ = ("file", "column", "feature", "lag_hours", "resampling", "scaling")
    FILE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    LAG_HOURS_FIELD_NUMBER: _ClassVar[int]
    RESAMPLING_FIELD_NUMBER: _ClassVar[int]
    SCALING_FIELD_NUMBER: _ClassVar[int]
    file: str
    column: str
    feature: str
    lag_hours: float
    resampling: _common_pb2.ResamplingMethod
    scaling: _common_pb2.ScalingRange
    def __init__(self, file: _Optional[str] = ..., column: _Optional[str] = ..., feature: _Optional[str] = ..., lag_hours: _Optional[float] = ..., resampling: _Optional[_Union[_common_pb2.ResamplingMethod, int, str]] = ..., scaling: _Optional[_Union[_common_pb2.ScalingRange, _Mapping]] = ...) -> None: ...

class SplitConfig(_message.Message):
    __slots__ = ("train_fraction", "validation_fraction", "test_fraction", "method", "seed")
    TRAIN_FRACTION_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FRACTION_FIELD_NUMBER: _ClassVar[int]
    TEST_FRACTION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    train_fraction: float
    validation_fraction: float
    test_fraction: float
    method: SplitMethod
    seed: int
    def __init__(self, train_fraction: _Optional[float] = ..., validation_fraction: _Optional[float] = ..., test_fraction: _Optional[float] = ..., method: _Optional[_Union[SplitMethod, int, str]] = ..., seed: _Optional[int] = ...) -> None: ...

class DatasetSpec(_message.Message):
    __slots__ = ("inputs", "outputs", "window", "calendar", "split", "lags", "future_calendar")
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    LAGS_FIELD_NUMBER: _ClassVar[int]
    FUTURE_CALENDAR_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[FeatureSpec]
    outputs: _containers.RepeatedCompositeFieldContainer[FeatureSpec]
    window: WindowConfig
    calendar: CalendarFeatures
    split: SplitConfig
    lags: _containers.RepeatedCompositeFieldContainer[LagFeature]
    future_calendar: CalendarFeatures
    def __init__(self, inputs: _Optional[_Iterable[_Union[FeatureSpec, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[FeatureSpec, _Mapping]]] = ..., window: _Optional[_Union[WindowConfig, _Mapping]] = ..., calendar: _Optional[_Union[CalendarFeatures, _Mapping]] = ..., split: _Optional[_Union[SplitConfig, _Mapping]] = ..., lags: _Optional[_Iterable[_Union[LagFeature, _Mapping]]] = ..., future_calendar: _Optional[_Union[CalendarFeatures, _Mapping]] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("name", "display_name", "description", "spec", "latest_dataset", "create_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    LATEST_DATASET_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    description: str
    spec: DatasetSpec
    latest_dataset: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., spec: _Optional[_Union[DatasetSpec, _Mapping]] = ..., latest_dataset: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FeatureScaler(_message.Message):
    __slots__ = ("feature", "role", "data_min", "data_max", "data_mean", "range")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DATA_MIN_FIELD_NUMBER: _ClassVar[int]
    DATA_MAX_FIELD_NUMBER: _ClassVar[int]
    DATA_MEAN_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    feature: str
    role: _common_pb2.FeatureRole
    data_min: float
    data_max: float
    data_mean: float
    range: _common_pb2.ScalingRange
    def __init__(self, feature: _Optional[str] = ..., role: _Optional[_Union[_common_pb2.FeatureRole, int, str]] = ..., data_min: _Optional[float] = ..., data_max: _Optional[float] = ..., data_mean: _Optional[float] = ..., range: _Optional[_Union[_common_pb2.ScalingRange, _Mapping]] = ...) -> None: ...

class DatasetObject(_message.Message):
    __slots__ = ("id", "kind", "split", "feature", "object")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: DatasetObjectKind
    split: _common_pb2.DataSplit
    feature: str
    object: _common_pb2.ObjectRef
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[DatasetObjectKind, int, str]] = ..., split: _Optional[_Union[_common_pb2.DataSplit, int, str]] = ..., feature: _Optional[str] = ..., object: _Optional[_Union[_common_pb2.ObjectRef, _Mapping]] = ...) -> None: ...

class Dataset(_message.Message):
    __slots__ = ("name", "state", "failure_reason", "spec", "gap_tolerance", "x_shape", "y_shape", "input_feature_names", "output_feature_names", "train_sample_count", "validation_sample_count", "test_sample_count", "dropped_sample_count", "scalers", "objects", "create_time", "start_time", "end_time", "future_shape", "future_feature_names")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    GAP_TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    X_SHAPE_FIELD_NUMBER: _ClassVar[int]
    Y_SHAPE_FIELD_NUMBER: _ClassVar[int]
    INPUT_FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    TRAIN_SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TEST_SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SCALERS_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    FUTURE_SHAPE_FIELD_NUMBER: _ClassVar[int]
    FUTURE_FEATURE_NAMES_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: DatasetState
    failure_reason: str
    spec: DatasetSpec
    gap_tolerance: _duration_pb2.Duration
    x_shape: _containers.RepeatedScalarFieldContainer[int]
    y_shape: _containers.RepeatedScalarFieldContainer[int]
    input_feature_names: _containers.RepeatedScalarFieldContainer[str]
    output_feature_names: _containers.RepeatedScalarFieldContainer[str]
    train_sample_count: int
    validation_sample_count: int
    test_sample_count: int
    dropped_sample_count: int
    scalers: _containers.RepeatedCompositeFieldContainer[FeatureScaler]
    objects: _containers.RepeatedCompositeFieldContainer[DatasetObject]
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    future_shape: _containers.RepeatedScalarFieldContainer[int]
    future_feature_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[DatasetState, int, str]] = ..., failure_reason: _Optional[str] = ..., spec: _Optional[_Union[DatasetSpec, _Mapping]] = ..., gap_tolerance: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., x_shape: _Optional[_Iterable[int]] = ..., y_shape: _Optional[_Iterable[int]] = ..., input_feature_names: _Optional[_Iterable[str]] = ..., output_feature_names: _Optional[_Iterable[str]] = ..., train_sample_count: _Optional[int] = ..., validation_sample_count: _Optional[int] = ..., test_sample_count: _Optional[int] = ..., dropped_sample_count: _Optional[int] = ..., scalers: _Optional[_Iterable[_Union[FeatureScaler, _Mapping]]] = ..., objects: _Optional[_Iterable[_Union[DatasetObject, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., future_shape: _Optional[_Iterable[int]] = ..., future_feature_names: _Optional[_Iterable[str]] = ...) -> None: ...

class NeuralParams(_message.Message):
    __slots__ = ("layers", "units", "epochs", "batch_size", "learning_rate", "activation", "early_stopping_patience")
    LAYERS_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    ACTIVATION_FIELD_NUMBER: _ClassVar[int]
    EARLY_STOPPING_PATIENCE_FIELD_NUMBER: _ClassVar[int]
    layers: int
    units: int
    epochs: int
    batch_size: int
    learning_rate: float
    activation: Activation
    early_stopping_patience: int
    def __init__(self, layers: _Optional[int] = ..., units: _Optional[int] = ..., epochs: _Optional[int] = ..., batch_size: _Optional[int] = ..., learning_rate: _Optional[float] = ..., activation: _Optional[_Union[Activation, int, str]] = ..., early_stopping_patience: _Optional[int] = ...) -> None: ...

class DenseParams(_message.Message):
    __slots__ = ("neural",)
    NEURAL_FIELD_NUMBER: _ClassVar[int]
    neural: NeuralParams
    def __init__(self, neural: _Optional[_Union[NeuralParams, _Mapping]] = ...) -> None: ...

class CnnParams(_message.Message):
    __slots__ = ("neural", "kernel_size")
    NEURAL_FIELD_NUMBER: _ClassVar[int]
    KERNEL_SIZE_FIELD_NUMBER: _ClassVar[int]
    neural: NeuralParams
    kernel_size: int
    def __init__(self, neural: _Optional[_Union[NeuralParams, _Mapping]] = ..., kernel_size: _Optional[int] = ...) -> None: ...

class LstmParams(_message.Message):
    __slots__ = ("neural",)
    NEURAL_FIELD_NUMBER: _ClassVar[int]
    neural: NeuralParams
    def __init__(self, neural: _Optional[_Union[NeuralParams, _Mapping]] = ...) -> None: ...

class ArLstmParams(_message.Message):
    __slots__ = ("neural",)
    NEURAL_FIELD_NUMBER: _ClassVar[int]
    neural: NeuralParams
    def __init__(self, neural: _Optional[_Union[NeuralParams, _Mapping]] = ...) -> None: ...

class SvrParams(_message.Message):
    __slots__ = ("kernel", "c", "epsilon")
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    C_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    kernel: SvrKernel
    c: float
    epsilon: float
    def __init__(self, kernel: _Optional[_Union[SvrKernel, int, str]] = ..., c: _Optional[float] = ..., epsilon: _Optional[float] = ...) -> None: ...

class LinearRegressionParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LightGbmParams(_message.Message):
    __slots__ = ("n_estimators", "learning_rate", "num_leaves", "strategy", "early_stopping_rounds", "min_child_samples")
    N_ESTIMATORS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    NUM_LEAVES_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    EARLY_STOPPING_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    MIN_CHILD_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    n_estimators: int
    learning_rate: float
    num_leaves: int
    strategy: LightGbmStrategy
    early_stopping_rounds: int
    min_child_samples: int
    def __init__(self, n_estimators: _Optional[int] = ..., learning_rate: _Optional[float] = ..., num_leaves: _Optional[int] = ..., strategy: _Optional[_Union[LightGbmStrategy, int, str]] = ..., early_stopping_rounds: _Optional[int] = ..., min_child_samples: _Optional[int] = ...) -> None: ...

class StatisticalParams(_message.Message):
    __slots__ = ("season_hours", "history_steps", "fit_steps")
    SEASON_HOURS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_STEPS_FIELD_NUMBER: _ClassVar[int]
    FIT_STEPS_FIELD_NUMBER: _ClassVar[int]
    season_hours: _containers.RepeatedScalarFieldContainer[float]
    history_steps: int
    fit_steps: int
    def __init__(self, season_hours: _Optional[_Iterable[float]] = ..., history_steps: _Optional[int] = ..., fit_steps: _Optional[int] = ...) -> None: ...

class EnsembleParams(_message.Message):
    __slots__ = ("members",)
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, members: _Optional[_Iterable[str]] = ...) -> None: ...

class ModelSpec(_message.Message):
    __slots__ = ("model_id", "display_name", "seed", "time_limit", "dense", "cnn", "lstm", "ar_lstm", "svr_direct", "svr_mimo", "linear_regression", "lightgbm", "mstl", "auto_ets", "auto_arima", "seasonal_naive", "ensemble")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DENSE_FIELD_NUMBER: _ClassVar[int]
    CNN_FIELD_NUMBER: _ClassVar[int]
    LSTM_FIELD_NUMBER: _ClassVar[int]
    AR_LSTM_FIELD_NUMBER: _ClassVar[int]
    SVR_DIRECT_FIELD_NUMBER: _ClassVar[int]
    SVR_MIMO_FIELD_NUMBER: _ClassVar[int]
    LINEAR_REGRESSION_FIELD_NUMBER: _ClassVar[int]
    LIGHTGBM_FIELD_NUMBER: _ClassVar[int]
    MSTL_FIELD_NUMBER: _ClassVar[int]
    AUTO_ETS_FIELD_NUMBER: _ClassVar[int]
    AUTO_ARIMA_FIELD_NUMBER: _ClassVar[int]
    SEASONAL_NAIVE_FIELD_NUMBER: _ClassVar[int]
    ENSEMBLE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    display_name: str
    seed: int
    time_limit: _duration_pb2.Duration
    dense: DenseParams
    cnn: CnnParams
    lstm: LstmParams
    ar_lstm: ArLstmParams
    svr_direct: SvrParams
    svr_mimo: SvrParams
    linear_regression: LinearRegressionParams
    lightgbm: LightGbmParams
    mstl: StatisticalParams
    auto_ets: StatisticalParams
    auto_arima: StatisticalParams
    seasonal_naive: StatisticalParams
    ensemble: EnsembleParams
    def __init__(self, model_id: _Optional[str] = ..., display_name: _Optional[str] = ..., seed: _Optional[int] = ..., time_limit: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dense: _Optional[_Union[DenseParams, _Mapping]] = ..., cnn: _Optional[_Union[CnnParams, _Mapping]] = ..., lstm: _Optional[_Union[LstmParams, _Mapping]] = ..., ar_lstm: _Optional[_Union[ArLstmParams, _Mapping]] = ..., svr_direct: _Optional[_Union[SvrParams, _Mapping]] = ..., svr_mimo: _Optional[_Union[SvrParams, _Mapping]] = ..., linear_regression: _Optional[_Union[LinearRegressionParams, _Mapping]] = ..., lightgbm: _Optional[_Union[LightGbmParams, _Mapping]] = ..., mstl: _Optional[_Union[StatisticalParams, _Mapping]] = ..., auto_ets: _Optional[_Union[StatisticalParams, _Mapping]] = ..., auto_arima: _Optional[_Union[StatisticalParams, _Mapping]] = ..., seasonal_naive: _Optional[_Union[StatisticalParams, _Mapping]] = ..., ensemble: _Optional[_Union[EnsembleParams, _Mapping]] = ...) -> None: ...

class EpochMetrics(_message.Message):
    __slots__ = ("epoch", "loss", "val_loss", "rmse", "val_rmse", "duration")
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    VAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    RMSE_FIELD_NUMBER: _ClassVar[int]
    VAL_RMSE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    loss: float
    val_loss: float
    rmse: float
    val_rmse: float
    duration: _duration_pb2.Duration
    def __init__(self, epoch: _Optional[int] = ..., loss: _Optional[float] = ..., val_loss: _Optional[float] = ..., rmse: _Optional[float] = ..., val_rmse: _Optional[float] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class PredictionSet(_message.Message):
    __slots__ = ("split", "row_count", "object")
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    split: _common_pb2.DataSplit
    row_count: int
    object: _common_pb2.ObjectRef
    def __init__(self, split: _Optional[_Union[_common_pb2.DataSplit, int, str]] = ..., row_count: _Optional[int] = ..., object: _Optional[_Union[_common_pb2.ObjectRef, _Mapping]] = ...) -> None: ...

class PredictionIntervals(_message.Message):
    __slots__ = ("levels", "method", "half_widths", "calibration_sample_count")
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    HALF_WIDTHS_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedScalarFieldContainer[float]
    method: IntervalMethod
    half_widths: _containers.RepeatedScalarFieldContainer[float]
    calibration_sample_count: int
    def __init__(self, levels: _Optional[_Iterable[float]] = ..., method: _Optional[_Union[IntervalMethod, int, str]] = ..., half_widths: _Optional[_Iterable[float]] = ..., calibration_sample_count: _Optional[int] = ...) -> None: ...

class ValidationScore(_message.Message):
    __slots__ = ("mae", "rmse", "sample_count")
    MAE_FIELD_NUMBER: _ClassVar[int]
    RMSE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    mae: float
    rmse: float
    sample_count: int
    def __init__(self, mae: _Optional[float] = ..., rmse: _Optional[float] = ..., sample_count: _Optional[int] = ...) -> None: ...

class ModelResult(_message.Message):
    __slots__ = ("name", "spec", "model_type", "state", "failure_reason", "artifact_format", "artifact", "history", "best_epoch", "predictions", "start_time", "end_time", "intervals", "validation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    BEST_EPOCH_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    INTERVALS_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    spec: ModelSpec
    model_type: _common_pb2.ModelType
    state: ModelState
    failure_reason: str
    artifact_format: _common_pb2.ArtifactFormat
    artifact: _common_pb2.ObjectRef
    history: _containers.RepeatedCompositeFieldContainer[EpochMetrics]
    best_epoch: int
    predictions: _containers.RepeatedCompositeFieldContainer[PredictionSet]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    intervals: PredictionIntervals
    validation: ValidationScore
    def __init__(self, name: _Optional[str] = ..., spec: _Optional[_Union[ModelSpec, _Mapping]] = ..., model_type: _Optional[_Union[_common_pb2.ModelType, int, str]] = ..., state: _Optional[_Union[ModelState, int, str]] = ..., failure_reason: _Optional[str] = ..., artifact_format: _Optional[_Union[_common_pb2.ArtifactFormat, int, str]] = ..., artifact: _Optional[_Union[_common_pb2.ObjectRef, _Mapping]] = ..., history: _Optional[_Iterable[_Union[EpochMetrics, _Mapping]]] = ..., best_epoch: _Optional[int] = ..., predictions: _Optional[_Iterable[_Union[PredictionSet, _Mapping]]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., intervals: _Optional[_Union[PredictionIntervals, _Mapping]] = ..., validation: _Optional[_Union[ValidationScore, _Mapping]] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ("name", "display_name", "dataset", "session", "model_specs", "state", "failure_reason", "models", "attempt_count", "last_event_sequence", "create_time", "start_time", "end_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_SPECS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    dataset: str
    session: str
    model_specs: _containers.RepeatedCompositeFieldContainer[ModelSpec]
    state: RunState
    failure_reason: str
    models: _containers.RepeatedCompositeFieldContainer[ModelResult]
    attempt_count: int
    last_event_sequence: int
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., dataset: _Optional[str] = ..., session: _Optional[str] = ..., model_specs: _Optional[_Iterable[_Union[ModelSpec, _Mapping]]] = ..., state: _Optional[_Union[RunState, int, str]] = ..., failure_reason: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelResult, _Mapping]]] = ..., attempt_count: _Optional[int] = ..., last_event_sequence: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RunStateChange(_message.Message):
    __slots__ = ("state", "reason")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    state: RunState
    reason: str
    def __init__(self, state: _Optional[_Union[RunState, int, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ModelStarted(_message.Message):
    __slots__ = ("model", "model_type")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    model: str
    model_type: _common_pb2.ModelType
    def __init__(self, model: _Optional[str] = ..., model_type: _Optional[_Union[_common_pb2.ModelType, int, str]] = ...) -> None: ...

class ModelFinished(_message.Message):
    __slots__ = ("model", "state", "failure_reason", "duration")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    model: str
    state: ModelState
    failure_reason: str
    duration: _duration_pb2.Duration
    def __init__(self, model: _Optional[str] = ..., state: _Optional[_Union[ModelState, int, str]] = ..., failure_reason: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class EpochEnd(_message.Message):
    __slots__ = ("model", "metrics", "total_epochs", "eta")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EPOCHS_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    model: str
    metrics: EpochMetrics
    total_epochs: int
    eta: _duration_pb2.Duration
    def __init__(self, model: _Optional[str] = ..., metrics: _Optional[_Union[EpochMetrics, _Mapping]] = ..., total_epochs: _Optional[int] = ..., eta: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class BatchProgress(_message.Message):
    __slots__ = ("model", "epoch", "batch", "total_batches", "loss")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BATCHES_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    model: str
    epoch: int
    batch: int
    total_batches: int
    loss: float
    def __init__(self, model: _Optional[str] = ..., epoch: _Optional[int] = ..., batch: _Optional[int] = ..., total_batches: _Optional[int] = ..., loss: _Optional[float] = ...) -> None: ...

class DatasetBuildProgress(_message.Message):
    __slots__ = ("done", "total", "eta", "stage")
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    done: int
    total: int
    eta: _duration_pb2.Duration
    stage: str
    def __init__(self, done: _Optional[int] = ..., total: _Optional[int] = ..., eta: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., stage: _Optional[str] = ...) -> None: ...

class JobWarning(_message.Message):
    __slots__ = ("model", "message")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    model: str
    message: str
    def __init__(self, model: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RunSummary(_message.Message):
    __slots__ = ("succeeded_count", "failed_count", "cancelled_count", "skipped_count", "best_model", "duration")
    SUCCEEDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_COUNT_FIELD_NUMBER: _ClassVar[int]
    BEST_MODEL_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    succeeded_count: int
    failed_count: int
    cancelled_count: int
    skipped_count: int
    best_model: str
    duration: _duration_pb2.Duration
    def __init__(self, succeeded_count: _Optional[int] = ..., failed_count: _Optional[int] = ..., cancelled_count: _Optional[int] = ..., skipped_count: _Optional[int] = ..., best_model: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ("model", "code", "message")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    model: str
    code: str
    message: str
    def __init__(self, model: _Optional[str] = ..., code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RunEvent(_message.Message):
    __slots__ = ("sequence", "time", "state_change", "model_started", "model_finished", "epoch_end", "batch_progress", "dataset_build_progress", "warning", "summary", "error")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    MODEL_STARTED_FIELD_NUMBER: _ClassVar[int]
    MODEL_FINISHED_FIELD_NUMBER: _ClassVar[int]
    EPOCH_END_FIELD_NUMBER: _ClassVar[int]
    BATCH_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    DATASET_BUILD_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    time: _timestamp_pb2.Timestamp
    state_change: RunStateChange
    model_started: ModelStarted
    model_finished: ModelFinished
    epoch_end: EpochEnd
    batch_progress: BatchProgress
    dataset_build_progress: DatasetBuildProgress
    warning: JobWarning
    summary: RunSummary
    error: JobError
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state_change: _Optional[_Union[RunStateChange, _Mapping]] = ..., model_started: _Optional[_Union[ModelStarted, _Mapping]] = ..., model_finished: _Optional[_Union[ModelFinished, _Mapping]] = ..., epoch_end: _Optional[_Union[EpochEnd, _Mapping]] = ..., batch_progress: _Optional[_Union[BatchProgress, _Mapping]] = ..., dataset_build_progress: _Optional[_Union[DatasetBuildProgress, _Mapping]] = ..., warning: _Optional[_Union[JobWarning, _Mapping]] = ..., summary: _Optional[_Union[RunSummary, _Mapping]] = ..., error: _Optional[_Union[JobError, _Mapping]] = ...) -> None: ...

class DatasetStateChange(_message.Message):
    __slots__ = ("state", "reason")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    state: DatasetState
    reason: str
    def __init__(self, state: _Optional[_Union[DatasetState, int, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class DatasetBuildEvent(_message.Message):
    __slots__ = ("sequence", "time", "state_change", "progress", "warning", "error")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    time: _timestamp_pb2.Timestamp
    state_change: DatasetStateChange
    progress: DatasetBuildProgress
    warning: JobWarning
    error: JobError
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state_change: _Optional[_Union[DatasetStateChange, _Mapping]] = ..., progress: _Optional[_Union[DatasetBuildProgress, _Mapping]] = ..., warning: _Optional[_Union[JobWarning, _Mapping]] = ..., error: _Optional[_Union[JobError, _Mapping]] = ...) -> None: ...

class OutputFeature(_message.Message):
    __slots__ = ("feature", "horizon", "scaler")
    FEATURE_FIELD_NUMBER: _ClassVar[int]
    HORIZON_FIELD_NUMBER: _ClassVar[int]
    SCALER_FIELD_NUMBER: _ClassVar[int]
    feature: str
    horizon: _common_pb2.HorizonHours
    scaler: FeatureScaler
    def __init__(self, feature: _Optional[str] = ..., horizon: _Optional[_Union[_common_pb2.HorizonHours, _Mapping]] = ..., scaler: _Optional[_Union[FeatureScaler, _Mapping]] = ...) -> None: ...

class PredictionsHeader(_message.Message):
    __slots__ = ("features", "output_steps", "row_count", "history_steps", "interval_levels")
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_STEPS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    HISTORY_STEPS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_LEVELS_FIELD_NUMBER: _ClassVar[int]
    features: _containers.RepeatedCompositeFieldContainer[OutputFeature]
    output_steps: int
    row_count: int
    history_steps: int
    interval_levels: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, features: _Optional[_Iterable[_Union[OutputFeature, _Mapping]]] = ..., output_steps: _Optional[int] = ..., row_count: _Optional[int] = ..., history_steps: _Optional[int] = ..., interval_levels: _Optional[_Iterable[float]] = ...) -> None: ...

class PredictionsChunk(_message.Message):
    __slots__ = ("reference_times", "predicted", "actual", "predicted_scaled", "actual_scaled", "history", "lower", "upper")
    REFERENCE_TIMES_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_SCALED_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_SCALED_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    reference_times: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    predicted: _containers.RepeatedScalarFieldContainer[float]
    actual: _containers.RepeatedScalarFieldContainer[float]
    predicted_scaled: _containers.RepeatedScalarFieldContainer[float]
    actual_scaled: _containers.RepeatedScalarFieldContainer[float]
    history: _containers.RepeatedScalarFieldContainer[float]
    lower: _containers.RepeatedScalarFieldContainer[float]
    upper: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, reference_times: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ..., predicted: _Optional[_Iterable[float]] = ..., actual: _Optional[_Iterable[float]] = ..., predicted_scaled: _Optional[_Iterable[float]] = ..., actual_scaled: _Optional[_Iterable[float]] = ..., history: _Optional[_Iterable[float]] = ..., lower: _Optional[_Iterable[float]] = ..., upper: _Optional[_Iterable[float]] = ...) -> None: ...

class AutoPlan(_message.Message):
    __slots__ = ("season_hours", "dataset_spec", "model_specs", "time_limit", "notes")
    SEASON_HOURS_FIELD_NUMBER: _ClassVar[int]
    DATASET_SPEC_FIELD_NUMBER: _ClassVar[int]
    MODEL_SPECS_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    season_hours: _containers.RepeatedScalarFieldContainer[float]
    dataset_spec: DatasetSpec
    model_specs: _containers.RepeatedCompositeFieldContainer[ModelSpec]
    time_limit: _duration_pb2.Duration
    notes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, season_hours: _Optional[_Iterable[float]] = ..., dataset_spec: _Optional[_Union[DatasetSpec, _Mapping]] = ..., model_specs: _Optional[_Iterable[_Union[ModelSpec, _Mapping]]] = ..., time_limit: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., notes: _Optional[_Iterable[str]] = ...) -> None: ...
