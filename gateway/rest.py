"""REST/JSON transcoding per google.api.http: requests from path, query and body; responses
and errors as proto3 JSON.

Requests: the body (if the binding has one) is parsed first, into the whole request
(`body: "*"`) or into the named field; query parameters then set any other field by its
proto or JSON name (dotted for nested fields, repeated for repeated fields); path
variables are applied last. Responses use protobuf's own JSON mapping (lowerCamelCase
names, int64 as strings, bytes as base64). Errors are `google.rpc.Status` JSON with the
HTTP status google/rpc/code.proto gives for the gRPC code.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from multidict import MultiMapping

from gateway.routes import HttpBinding, MethodRoute

# Registers google.rpc.BadRequest & co. in the descriptor pool, so their Any details render as JSON.
_ERROR_DETAIL_TYPES = error_details_pb2.DESCRIPTOR

HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}
NDJSON = "application/x-ndjson"
_TRUE, _FALSE = ("true", "1"), ("false", "0")


@dataclass
class RequestError(ValueError):
    """A REST request that cannot be transcoded: INVALID_ARGUMENT naming the field."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}"

    def status(self) -> status_pb2.Status:
        violation = error_details_pb2.BadRequest.FieldViolation(field=self.field, description=self.description)
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
        return status_pb2.Status(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message=str(self), details=[detail])


def build_requests(
    route: MethodRoute, binding: HttpBinding, path_params: Mapping[str, str], query: MultiMapping[str], body: bytes
) -> list[Message]:
    """The request message(s) for one REST call.

    One message, except for client-streaming RPCs, whose body (`body: "*"`) may be a JSON
    array of messages sent in order; path and query values go into the first one.
    Raises RequestError for unparsable JSON, unknown fields or values of the wrong type.
    """
    parsed = _parse_body(body) if binding.body else None
    if route.client_streaming and binding.body == "*" and isinstance(parsed, list):
        messages = [_from_json(route.request_class, item, f"body[{i}]") for i, item in enumerate(parsed)]
        if not messages:
            raise RequestError("body", "a client-streaming call needs at least one message")
    elif binding.body == "*":
        messages = [_from_json(route.request_class, {} if parsed is None else parsed, "body")]
    else:
        messages = [route.request_class()]
        if binding.body:
            field = binding.body
            try:
                json_format.ParseDict({field: parsed}, messages[0])
            except json_format.ParseError as error:
                raise RequestError(field, f"not a valid JSON value for this field: {error}") from None
    first = messages[0]
    if binding.body != "*":
        bound = set(path_params) | ({binding.body} if binding.body else set())
        for key in query:
            canonical = _canonical_path(first.DESCRIPTOR, key)
            if any(canonical == b or canonical.startswith(b + ".") for b in bound):
                raise RequestError(key, "is set by the path or the body; not as a query parameter")
            for value in query.getall(key):
                set_field(first, key, value)
    for path, value in path_params.items():
        set_field(first, path, value)
    return messages


def _parse_body(body: bytes):
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError("body", f"not valid JSON: {error}") from None


def _from_json(message_class: type[Message], value, where: str) -> Message:
    message = message_class()
    if not isinstance(value, dict):
        raise RequestError(where, "must be a JSON object")
    try:
        json_format.ParseDict(value, message)
    except json_format.ParseError as error:
        raise RequestError(where, str(error)) from None
    return message


def set_field(message: Message, path: str, raw: str) -> None:
    """Sets the field at a dotted path (proto or JSON names) from its string form.

    Repeated fields are appended to. Raises RequestError for an unknown field or a
    value that does not fit its type.
    """
    *parents, last = path.split(".")
    target = message
    for name in parents:
        field = _field(target.DESCRIPTOR, name, path)
        if field.type != FieldDescriptor.TYPE_MESSAGE or field.is_repeated:
            raise RequestError(path, f"{name} is not a message field")
        target = getattr(target, field.name)
    field = _field(target.DESCRIPTOR, last, path)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.is_repeated:
            raise RequestError(path, "repeated message fields cannot be set from the URL")
        _set_well_known(getattr(target, field.name), raw, path)
    elif field.is_repeated:
        getattr(target, field.name).append(_scalar(field, raw, path))
    else:
        setattr(target, field.name, _scalar(field, raw, path))


def _canonical_path(descriptor: Descriptor, path: str) -> str:
    names = []
    for name in path.split("."):
        field = descriptor.fields_by_name.get(name) or descriptor.fields_by_camelcase_name.get(name)
        if field is None:
            return path
        names.append(field.name)
        descriptor = field.message_type
        if descriptor is None:
            break
    return ".".join(names)


def _field(descriptor: Descriptor, name: str, path: str) -> FieldDescriptor:
    field = descriptor.fields_by_name.get(name) or descriptor.fields_by_camelcase_name.get(name)
    if field is None:
        raise RequestError(path, f"no field {name!r} in {descriptor.full_name}")
    return field


def _scalar(field: FieldDescriptor, raw: str, path: str):
    kind = field.type
    try:
        if kind == FieldDescriptor.TYPE_STRING:
            return raw
        if kind == FieldDescriptor.TYPE_BYTES:
            padded = raw + "=" * (-len(raw) % 4)
            return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        if kind == FieldDescriptor.TYPE_BOOL:
            if raw.lower() in _TRUE + _FALSE:
                return raw.lower() in _TRUE
            raise ValueError(raw)
        if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return float(raw)
        if kind == FieldDescriptor.TYPE_ENUM:
            value = field.enum_type.values_by_name.get(raw)
            return value.number if value is not None else int(raw)
        return int(raw)
    except (ValueError, binascii.Error):
        expected = field.enum_type.full_name if kind == FieldDescriptor.TYPE_ENUM else _TYPE_NAMES.get(kind, "value")
        raise RequestError(path, f"{raw!r} is not a valid {expected}") from None


_TYPE_NAMES = {
    FieldDescriptor.TYPE_BOOL: "bool (true or false)",
    FieldDescriptor.TYPE_BYTES: "base64 string",
    FieldDescriptor.TYPE_DOUBLE: "number",
    FieldDescriptor.TYPE_FLOAT: "number",
}


def _set_well_known(target: Message, raw: str, path: str) -> None:
    name = target.DESCRIPTOR.full_name
    try:
        if name == "google.protobuf.FieldMask":
            # AIP style `update_mask=display_name,role` as well as the JSON `displayName,role`.
            for item in filter(None, (p.strip() for p in raw.split(","))):
                target.paths.append(item if "_" in item or item.islower() else _snake(item))
        elif name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
            target.FromJsonString(raw)
        elif (
            name.startswith("google.protobuf.")
            and name.endswith("Value")
            and "value" in target.DESCRIPTOR.fields_by_name
        ):
            field = target.DESCRIPTOR.fields_by_name["value"]
            target.value = _scalar(field, raw, path)
        else:
            raise RequestError(path, f"{name} fields cannot be set from the URL; send them in the body")
    except ValueError as error:
        if isinstance(error, RequestError):
            raise
        raise RequestError(path, f"{raw!r} is not a valid {name}: {error}") from None


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


def response_json(message: Message, binding: HttpBinding | None) -> str:
    """A response message (or its `response_body` field) as one line of proto3 JSON."""
    if binding is not None and binding.response_body:
        field = message.DESCRIPTOR.fields_by_name[binding.response_body]
        wrapper = json_format.MessageToDict(message, preserving_proto_field_name=False)
        return json.dumps(wrapper.get(field.json_name), separators=(",", ":"))
    return json.dumps(json_format.MessageToDict(message), separators=(",", ":"))


def status_from_trailers(code: grpc.StatusCode, details: str | None, trailing_metadata) -> status_pb2.Status:
    """The rich status a gRPC failure carries (grpc-status-details-bin), or a plain one."""
    for key, value in trailing_metadata or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except Exception:  # a malformed details blob must not hide the error itself
                break
    return status_for(code, details or "")


def status_for(code: grpc.StatusCode, message: str) -> status_pb2.Status:
    """A status without details, for errors the gateway itself answers."""
    return status_pb2.Status(code=code.value[0], message=message)


def status_json(status: status_pb2.Status) -> dict:
    """google.rpc.Status as JSON: {"code", "message", "details": [Any JSON, ...]}."""
    details = []
    for detail in status.details:
        try:
            details.append(json_format.MessageToDict(detail))
        except (TypeError, KeyError, json_format.Error):  # a type this gateway does not know
            details.append({"@type": detail.type_url, "value": base64.b64encode(detail.value).decode()})
    return {"code": status.code, "message": status.message, "details": details}


def http_status(code: int) -> int:
    """The HTTP status google/rpc/code.proto gives for a numeric gRPC code (500 if unknown)."""
    for status_code, http in HTTP_STATUS.items():
        if status_code.value[0] == code:
            return http
    return 500
