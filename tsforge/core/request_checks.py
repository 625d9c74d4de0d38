"""The checks every request of every RPC gets before its servicer sees it, read from
the request's message descriptor, so a new RPC or field is covered without code here.

Walking the fields that are set, at any depth (map entries, repeated elements, oneofs):

- text (string fields): at most MAX_TEXT_CHARS characters (free text, i.e. fields
  named `description`, `*_description`, `reason` or `failure_reason`: at most
  MAX_FREE_TEXT_CHARS), no NUL; names, labels, ids and tokens (every other string)
  hold no control character at all, free text none but tab, line feed and carriage
  return. Bytes fields (upload chunks) are not text and are not looked at.
- enums: the number must be a value of the enum (proto3 accepts any number).
- numbers: float and double fields must be finite; NaN only where a field is listed
  in NAN_ALLOWED (where it means "missing").
- google.protobuf.Timestamp within 0001-01-01..9999-12-31 (its documented range) and
  Duration within ±10,000 years, nanos in range: a date past 9999 never reaches code
  that would overflow on it.
- repeated fields and maps: at most REPEATED_LIMITS[field] elements, else
  DEFAULT_MAX_REPEATED; the elements of a field over its cap are not looked at.

Every problem is one FieldViolation naming the field path ("session.spec.inputs[3].feature",
"model_version.tags['k']"), at most MAX_VIOLATIONS of them; a value is shown by at
most SHOWN_CHARS characters, so a 1 MB value never comes back in the error. The cost
is one pass over the set fields: a 6 MiB chunk is not read at all, 10,000 reference
times take a few milliseconds (tests/core/test_request_checks.py measures both).
Domain code keeps its own, tighter checks (page sizes, name patterns, value ranges).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

from google.protobuf import message as protobuf_message
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from tsforge.core.errors import FieldViolation, InvalidArgument

MAX_TEXT_CHARS = 1024
MAX_FREE_TEXT_CHARS = 10_000
DEFAULT_MAX_REPEATED = 10_000
MAX_VIOLATIONS = 20
SHOWN_CHARS = 40
MAX_FEATURES = 256  # inputs, and outputs, of one dataset spec (each is a file looked up)
MAX_MASK_PATHS = 64
MAX_TAGS = 64
MAX_MODELS_PER_RUN = 16  # tsforge.forecasting.estimators.specs.MAX_MODELS_PER_RUN
MAX_REFERENCE_TIMES = 10_000
MAX_INLINE_POINTS = 1_000_000
MAX_NAMES_PER_SELECTOR = 256  # models / features a metric table or plot request names

# Caps per field (full proto name); every other repeated field or map gets DEFAULT_MAX_REPEATED.
REPEATED_LIMITS: dict[str, int] = {
    "google.protobuf.FieldMask.paths": MAX_MASK_PATHS,
    "tsforge.training.v1.DatasetSpec.inputs": MAX_FEATURES,
    "tsforge.training.v1.DatasetSpec.outputs": MAX_FEATURES,
    "tsforge.training.v1.Run.model_specs": MAX_MODELS_PER_RUN,
    "tsforge.models.v1.RegisteredModel.tags": MAX_TAGS,
    "tsforge.models.v1.ModelVersion.tags": MAX_TAGS,
    "tsforge.models.v1.PredictRequest.reference_times": MAX_REFERENCE_TIMES,
    "tsforge.models.v1.FileInputs.inputs": MAX_FEATURES,
    "tsforge.models.v1.InlineInputs.series": MAX_FEATURES,
    "tsforge.models.v1.InlineSeries.times": MAX_INLINE_POINTS,
    "tsforge.models.v1.InlineSeries.values": MAX_INLINE_POINTS,
    "tsforge.evaluation.v1.MetricTableSelector.models": MAX_NAMES_PER_SELECTOR,
    "tsforge.evaluation.v1.MetricTableSelector.features": MAX_NAMES_PER_SELECTOR,
    "tsforge.evaluation.v1.RenderPlotRequest.models": MAX_NAMES_PER_SELECTOR,
}
# Float fields where NaN is a value (a missing point), not a mistake.
NAN_ALLOWED = frozenset({"tsforge.models.v1.InlineSeries.values"})

_FREE_TEXT_NAMES = frozenset({"description", "reason", "failure_reason"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FREE_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# google/protobuf/timestamp.proto: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_MIN_TIMESTAMP_SECONDS, _MAX_TIMESTAMP_SECONDS = -62_135_596_800, 253_402_300_799
_MAX_DURATION_SECONDS = 315_576_000_000  # google/protobuf/duration.proto: about ±10,000 years
_NANOS = 1_000_000_000

_STRING, _BYTES, _ENUM, _MESSAGE = (
    FieldDescriptor.TYPE_STRING,
    FieldDescriptor.TYPE_BYTES,
    FieldDescriptor.TYPE_ENUM,
    FieldDescriptor.TYPE_MESSAGE,
)
_FLOATS = (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)


def check_request(request: protobuf_message.Message) -> None:
    """Raises InvalidArgument listing the request's problems (see the module docstring)."""
    problems = request_problems(request)
    if problems:
        raise InvalidArgument(problems)


def request_problems(request: protobuf_message.Message) -> list[FieldViolation]:
    """The request's problems, at most MAX_VIOLATIONS (then one saying more were left out)."""
    found = _Problems()
    try:
        _walk(request, _plan(request.DESCRIPTOR), "", found)
    except _Enough:
        found.items.append(
            FieldViolation("request", f"more problems were found; the first {MAX_VIOLATIONS} are listed")
        )
    return found.items


def shown(value: str) -> str:
    """A value as an error message may repeat it: quoted, at most about SHOWN_CHARS
    characters of it (escapes count), then the length of the whole."""
    text = repr(value[:SHOWN_CHARS])
    if len(value) <= SHOWN_CHARS and len(text) <= SHOWN_CHARS + 2:
        return text
    return f"{text[: SHOWN_CHARS + 1]}… ({len(value)} characters)"


def _key_text(key) -> str:
    """A map key as a field path shows it: short, quoted when text."""
    if not isinstance(key, str):
        return str(key)
    return repr(key) if len(key) <= 20 else f"{key[:20]!r}…"


class _Enough(Exception):
    """MAX_VIOLATIONS were found: stop looking."""


@dataclass
class _Problems:
    items: list[FieldViolation] = field(default_factory=list)

    def add(self, path: str, description: str) -> None:
        if len(self.items) >= MAX_VIOLATIONS:
            raise _Enough
        self.items.append(FieldViolation(path, description))


@dataclass(frozen=True)
class _FieldPlan:
    """What to check of one field; `message` is the element's plan for message fields."""

    name: str
    full_name: str
    kind: str  # "text", "enum", "float", "message", "map", "other"
    repeated: bool
    limit: int
    free_text: bool = False
    enum_name: str = ""
    enum_numbers: frozenset[int] = frozenset()
    nan_allowed: bool = False
    message: _MessagePlan | None = None
    key: _FieldPlan | None = None  # maps: the key's and the value's plans
    value: _FieldPlan | None = None


@dataclass
class _MessagePlan:
    """The fields of one message type that need a look, by descriptor object."""

    full_name: str
    fields: dict = field(default_factory=dict)  # FieldDescriptor -> _FieldPlan
    special: str = ""  # "timestamp" or "duration"

    @property
    def empty(self) -> bool:
        return not self.fields and not self.special


@functools.cache
def _plan(descriptor: Descriptor) -> _MessagePlan:
    """The checks of a message type, built once per type (recursive types are fine:
    the plan is cached before its fields are planned)."""
    return _build_plan(descriptor, {})


def _build_plan(descriptor: Descriptor, building: dict[str, _MessagePlan]) -> _MessagePlan:
    if descriptor.full_name in building:
        return building[descriptor.full_name]
    plan = _MessagePlan(descriptor.full_name)
    building[descriptor.full_name] = plan
    if descriptor.full_name == "google.protobuf.Timestamp":
        plan.special = "timestamp"
        return plan
    if descriptor.full_name == "google.protobuf.Duration":
        plan.special = "duration"
        return plan
    for f in descriptor.fields:
        field_plan = _field_plan(f, building)
        if field_plan is not None:
            plan.fields[f] = field_plan
    return plan


def _field_plan(f: FieldDescriptor, building: dict[str, _MessagePlan]) -> _FieldPlan | None:
    repeated = f.is_repeated
    limit = REPEATED_LIMITS.get(f.full_name, DEFAULT_MAX_REPEATED)
    common = {"name": f.name, "full_name": f.full_name, "repeated": repeated, "limit": limit}
    if f.type == _MESSAGE and f.message_type.GetOptions().map_entry:
        entry = f.message_type
        key = _field_plan(entry.fields_by_name["key"], building)
        value = _field_plan(entry.fields_by_name["value"], building)
        return _FieldPlan(kind="map", key=key, value=value, **common)
    if f.type == _STRING:
        free = f.name in _FREE_TEXT_NAMES or f.name.endswith("_description")
        return _FieldPlan(kind="text", free_text=free, **common)
    if f.type == _ENUM:
        numbers = frozenset(v.number for v in f.enum_type.values)
        return _FieldPlan(kind="enum", enum_name=f.enum_type.full_name, enum_numbers=numbers, **common)
    if f.type in _FLOATS:
        return _FieldPlan(kind="float", nan_allowed=f.full_name in NAN_ALLOWED, **common)
    if f.type == _MESSAGE:
        element = _build_plan(f.message_type, building)
        return _FieldPlan(kind="message", message=element, **common)
    if repeated:  # repeated numbers, bools and bytes: only their count
        return _FieldPlan(kind="other", **common)
    return None


def _walk(message, plan: _MessagePlan, path: str, found: _Problems) -> None:
    if plan.special:
        _check_time(message, plan.special, path, found)
        return
    fields = plan.fields
    for descriptor, value in message.ListFields():
        field_plan = fields.get(descriptor)
        if field_plan is None:
            continue
        where = f"{path}.{field_plan.name}" if path else field_plan.name
        if field_plan.kind == "map":
            _check_map(value, field_plan, where, found)
        elif field_plan.repeated:
            _check_repeated(value, field_plan, where, found)
        else:
            _check_value(value, field_plan, where, found)


def _check_repeated(values, plan: _FieldPlan, path: str, found: _Problems) -> None:
    count = len(values)
    if count > plan.limit:
        found.add(path, f"at most {plan.limit} elements, got {count}")
        return
    kind = plan.kind
    if kind == "other":
        return
    if kind == "message":
        element = plan.message
        assert element is not None
        if element.empty:
            return
        if element.special:
            _check_times(values, element.special, path, found)
            return
        for index, value in enumerate(values):
            _walk(value, element, f"{path}[{index}]", found)
        return
    if kind == "float" and all(map(math.isfinite, values)):
        return  # the common case, in C
    if kind == "enum" and plan.enum_numbers.issuperset(values):
        return
    for index, value in enumerate(values):
        _check_value(value, plan, f"{path}[{index}]", found)


def _check_map(entries, plan: _FieldPlan, path: str, found: _Problems) -> None:
    count = len(entries)
    if count > plan.limit:
        found.add(path, f"at most {plan.limit} entries, got {count}")
        return
    key_plan, value_plan = plan.key, plan.value
    for key in entries:
        where = f"{path}[{_key_text(key)}]"
        if key_plan is not None:
            _check_value(key, key_plan, f"{where} (key)", found)
        if value_plan is not None:
            _check_value(entries[key], value_plan, where, found)


def _check_value(value, plan: _FieldPlan, path: str, found: _Problems) -> None:
    kind = plan.kind
    if kind == "text":
        _check_text(value, plan, path, found)
    elif kind == "enum":
        if value not in plan.enum_numbers:
            found.add(path, f"{value} is not a value of {plan.enum_name}")
    elif kind == "float":
        if not math.isfinite(value) and not (plan.nan_allowed and math.isnan(value)):
            allowed = "a finite number or NaN (missing)" if plan.nan_allowed else "a finite number"
            found.add(path, f"must be {allowed}, got {value}")
    elif kind == "message":
        assert plan.message is not None
        if not plan.message.empty:
            _walk(value, plan.message, path, found)


def _check_text(value: str, plan: _FieldPlan, path: str, found: _Problems) -> None:
    limit = MAX_FREE_TEXT_CHARS if plan.free_text else MAX_TEXT_CHARS
    if len(value) > limit:
        found.add(path, f"at most {limit} characters, got {len(value)}")
        return
    control = (_FREE_TEXT_CONTROL if plan.free_text else _CONTROL).search(value)
    if control is not None:
        character = control.group()
        what = "a NUL character" if character == "\x00" else f"the control character {character!r}"
        rule = "only tab and line breaks are allowed" if plan.free_text else "names and labels hold none"
        found.add(path, f"holds {what} at position {control.start()} ({rule}): {shown(value)}")


def _check_times(values, kind: str, path: str, found: _Problems) -> None:
    for index, value in enumerate(values):
        _check_time(value, kind, path, found, index)


def _check_time(value, kind: str, path: str, found: _Problems, index: int | None = None) -> None:
    seconds, nanos = value.seconds, value.nanos
    if kind == "timestamp":
        if _MIN_TIMESTAMP_SECONDS <= seconds <= _MAX_TIMESTAMP_SECONDS and 0 <= nanos < _NANOS:
            return
        description = (
            f"must lie within 0001-01-01 and 9999-12-31 (seconds {seconds}, nanos {nanos})"
            if 0 <= nanos < _NANOS
            else f"nanos must be 0..999999999, got {nanos}"
        )
    else:
        if (
            -_MAX_DURATION_SECONDS <= seconds <= _MAX_DURATION_SECONDS
            and -_NANOS < nanos < _NANOS
            and not (seconds and nanos and (seconds < 0) != (nanos < 0))
        ):
            return
        description = (
            f"must be a duration within ±10,000 years with nanos of its sign (seconds {seconds}, nanos {nanos})"
        )
    found.add(path if index is None else f"{path}[{index}]", description)
