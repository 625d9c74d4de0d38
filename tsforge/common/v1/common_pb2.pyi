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

class ResamplingMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESAMPLING_METHOD_UNSPECIFIED: _ClassVar[ResamplingMethod]
    RESAMPLING_METHOD_LINEAR: _ClassVar[ResamplingMethod]
    RESAMPLING_METHOD_MEAN: _ClassVar[ResamplingMethod]
    RESAMPLING_METHOD_NEAREST: _ClassVar[ResamplingMethod]
FEATURE_ROLE_UNSPECIFIED: FeatureRole
FEATURE_ROLE_INPUT: FeatureRole
FEATURE_ROLE_OUTPUT: FeatureRole
RESAMPLING_METHOD_UNSPECIFIED: ResamplingMethod
RESAMPLING_METHOD_LINEAR: ResamplingMethod
RESAMPLING_METHOD_MEAN: ResamplingMethod
RESAMPLING_METHOD_NEAREST: ResamplingMethod

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
