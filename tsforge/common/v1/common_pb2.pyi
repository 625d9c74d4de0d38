from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class FeatureRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEATURE_ROLE_UNSPECIFIED: _ClassVar[FeatureRole]
    FEATURE_ROLE_INPUT: _ClassVar[FeatureRole]
    FEATURE_ROLE_OUTPUT: _ClassVar[FeatureRole]
    FEATURE_ROLE_LAG: _ClassVar[FeatureRole]

class ResamplingMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESAMPLING_METHOD_UNSPECIFIED: _ClassVar[ResamplingMethod]
    RESAMPLING_METHOD_LINEAR: _ClassVar[ResamplingMethod]
    RESAMPLING_METHOD_MEAN: _ClassVar[ResamplingMethod]
    RESAMPLING_METHOD_NEAREST: _ClassVar[ResamplingMethod]

class DataSplit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_SPLIT_UNSPECIFIED: _ClassVar[DataSplit]
    DATA_SPLIT_TRAIN: _ClassVar[DataSplit]
    DATA_SPLIT_VALIDATION: _ClassVar[DataSplit]
    DATA_SPLIT_TEST: _ClassVar[DataSplit]

class ModelType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_TYPE_UNSPECIFIED: _ClassVar[ModelType]
    MODEL_TYPE_DENSE: _ClassVar[ModelType]
    MODEL_TYPE_CNN: _ClassVar[ModelType]
    MODEL_TYPE_LSTM: _ClassVar[ModelType]
    MODEL_TYPE_AR_LSTM: _ClassVar[ModelType]
    MODEL_TYPE_SVR_DIRECT: _ClassVar[ModelType]
    MODEL_TYPE_SVR_MIMO: _ClassVar[ModelType]
    MODEL_TYPE_LINEAR_REGRESSION: _ClassVar[ModelType]
    MODEL_TYPE_LIGHTGBM: _ClassVar[ModelType]
    MODEL_TYPE_MSTL: _ClassVar[ModelType]
    MODEL_TYPE_AUTO_ETS: _ClassVar[ModelType]
    MODEL_TYPE_AUTO_ARIMA: _ClassVar[ModelType]
    MODEL_TYPE_SEASONAL_NAIVE: _ClassVar[ModelType]
    MODEL_TYPE_ENSEMBLE: _ClassVar[ModelType]

class ArtifactFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ARTIFACT_FORMAT_UNSPECIFIED: _ClassVar[ArtifactFormat]
    ARTIFACT_FORMAT_BUNDLE: _ClassVar[ArtifactFormat]
    ARTIFACT_FORMAT_KERAS: _ClassVar[ArtifactFormat]
    ARTIFACT_FORMAT_H5: _ClassVar[ArtifactFormat]
    ARTIFACT_FORMAT_JOBLIB: _ClassVar[ArtifactFormat]
    ARTIFACT_FORMAT_LIGHTGBM: _ClassVar[ArtifactFormat]
    ARTIFACT_FORMAT_ENSEMBLE: _ClassVar[ArtifactFormat]
FEATURE_ROLE_UNSPECIFIED: FeatureRole
FEATURE_ROLE_INPUT: FeatureRole
FEATURE_ROLE_OUTPUT: FeatureRole
FEATURE_ROLE_LAG: FeatureRole
RESAMPLING_METHOD_UNSPECIFIED: ResamplingMethod
RESAMPLING_METHOD_LINEAR: ResamplingMethod
RESAMPLING_METHOD_MEAN: ResamplingMethod
RESAMPLING_METHOD_NEAREST: ResamplingMethod
DATA_SPLIT_UNSPECIFIED: DataSplit
DATA_SPLIT_TRAIN: DataSplit
DATA_SPLIT_VALIDATION: DataSplit
DATA_SPLIT_TEST: DataSplit
MODEL_TYPE_UNSPECIFIED: ModelType
MODEL_TYPE_DENSE: ModelType
MODEL_TYPE_CNN: ModelType
MODEL_TYPE_LSTM: ModelType
MODEL_TYPE_AR_LSTM: ModelType
MODEL_TYPE_SVR_DIRECT: ModelType
MODEL_TYPE_SVR_MIMO: ModelType
MODEL_TYPE_LINEAR_REGRESSION: ModelType
MODEL_TYPE_LIGHTGBM: ModelType
MODEL_TYPE_MSTL: ModelType
MODEL_TYPE_AUTO_ETS: ModelType
MODEL_TYPE_AUTO_ARIMA: ModelType
MODEL_TYPE_SEASONAL_NAIVE: ModelType
MODEL_TYPE_ENSEMBLE: ModelType
ARTIFACT_FORMAT_UNSPECIFIED: ArtifactFormat
ARTIFACT_FORMAT_BUNDLE: ArtifactFormat
ARTIFACT_FORMAT_KERAS: ArtifactFormat
ARTIFACT_FORMAT_H5: ArtifactFormat
ARTIFACT_FORMAT_JOBLIB: ArtifactFormat
ARTIFACT_FORMAT_LIGHTGBM: ArtifactFormat
ARTIFACT_FORMAT_ENSEMBLE: ArtifactFormat

class ScalingRange(_message.Message):
    __slots__ = ("min", "max")
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    min: float
    max: float
    def __init__(self, min: _Optional[float] = ..., max: _Optional[float] = ...) -> None: ...

class HorizonHours(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: float
    end: float
    def __init__(self, start: _Optional[float] = ..., end: _Optional[float] = ...) -> None: ...

class ObjectRef(_message.Message):
    __slots__ = ("key", "size_bytes", "sha256", "content_type")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    key: str
    size_bytes: int
    sha256: str
    content_type: str
    def __init__(self, key: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., content_type: _Optional[str] = ...) -> None: ...

class DownloadHeader(_message.Message):
    __slots__ = ("size_bytes", "sha256", "content_type", "file_name")
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    size_bytes: int
    sha256: str
    content_type: str
    file_name: str
    def __init__(self, size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., content_type: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...
