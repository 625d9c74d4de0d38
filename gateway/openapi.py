"""The REST/JSON surface as an OpenAPI 3.0 document, from the same descriptors and
google.api.http bindings Envoy's transcoder reads.

What it describes is what the edge serves: proto3 JSON (lowerCamelCase names, 64-bit
integers and bytes as strings, enums by name, every field printed), path templates
spelled out segment by segment (`/v1/{name=files/*}` is `/v1/files/{file}`, so a client
fills in the id and never encodes a slash), the other request fields as query parameters
by their proto names (`page_size`), server streams as newline-delimited JSON, errors as
google.rpc.Status, and a bearer token on every operation.
"""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import descriptor_pb2

from gateway.descriptors import HttpBinding, Rpc, services, split_template

FieldProto = descriptor_pb2.FieldDescriptorProto
STATUS = "google.rpc.Status"
_INT32 = {FieldProto.TYPE_INT32, FieldProto.TYPE_SINT32, FieldProto.TYPE_SFIXED32}
_UINT32 = {FieldProto.TYPE_UINT32, FieldProto.TYPE_FIXED32}
_INT64 = {FieldProto.TYPE_INT64, FieldProto.TYPE_SINT64, FieldProto.TYPE_SFIXED64}
_UINT64 = {FieldProto.TYPE_UINT64, FieldProto.TYPE_FIXED64}
# Well-known types have JSON forms of their own.
_WELL_KNOWN: dict[str, dict] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time", "example": "2024-01-31T12:00:00Z"},
    "google.protobuf.Duration": {"type": "string", "description": "seconds with an `s`, e.g. `3600s`"},
    "google.protobuf.FieldMask": {"type": "string", "description": "comma-separated field paths"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "additionalProperties": True,
    },
    "google.protobuf.DoubleValue": {"type": "number", "nullable": True},
    "google.protobuf.FloatValue": {"type": "number", "nullable": True},
    "google.protobuf.Int32Value": {"type": "integer", "format": "int32", "nullable": True},
    "google.protobuf.UInt32Value": {"type": "integer", "format": "int64", "minimum": 0, "nullable": True},
    "google.protobuf.Int64Value": {"type": "string", "format": "int64", "nullable": True},
    "google.protobuf.UInt64Value": {"type": "string", "format": "uint64", "nullable": True},
    "google.protobuf.BoolValue": {"type": "boolean", "nullable": True},
    "google.protobuf.StringValue": {"type": "string", "nullable": True},
    "google.protobuf.BytesValue": {"type": "string", "format": "byte", "nullable": True},
}


class _Types:
    """Every message and enum of a descriptor set, by full name."""

    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet):
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        for file in descriptor_set.file:
            self._add(file.package, file.message_type, file.enum_type)

    def _add(self, scope: str, messages: Iterable, enums: Iterable) -> None:
        for enum in enums:
            self.enums[f"{scope}.{enum.name}"] = enum
        for message in messages:
            name = f"{scope}.{message.name}"
            self.messages[name] = message
            self._add(name, message.nested_type, message.enum_type)


def document(descriptor_set: descriptor_pb2.FileDescriptorSet) -> dict:
    """The OpenAPI 3.0.3 document of every REST binding in the set."""
    types = _Types(descriptor_set)
    schemas: dict[str, dict] = {}
    paths: dict[str, dict] = {}
    for service in services(descriptor_set):
        for rpc in service.rpcs:
            for index, binding in enumerate(rpc.bindings):
                path, operation = _operation(types, schemas, rpc, binding, index)
                paths.setdefault(path, {})[binding.verb.lower()] = operation
    _schema_of_message(types, schemas, STATUS)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tsforge REST API",
            "version": "v1",
            "description": (
                "REST/JSON for every tsforge RPC, transcoded by the edge (Envoy) from the protos' "
                "google.api.http annotations. Authenticate with `Authorization: Bearer <token>` "
                "(`tsforge token --tenant NAME`). Errors are google.rpc.Status JSON with the HTTP status "
                "of their gRPC code; server streams are newline-delimited JSON, one message per line."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": s.full_name.rsplit(".", 1)[1]} for s in services(descriptor_set)],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": dict(sorted(schemas.items())),
        },
    }


def openapi_path(template: str) -> tuple[str, list[tuple[str, str, str]]]:
    """`/v1/{name=files/*}:download` -> ("/v1/files/{file}:download", [("file", "name", "files/{file}")]).

    Each wildcard becomes a parameter named for the collection before it (singular),
    else for the field it binds; the triples are (parameter, field path, how the
    field's value is spelled).
    """
    segments, verb = split_template(template)
    parts: list[str] = []
    parameters: list[tuple[str, str, str]] = []
    spelled: dict[str, list[str]] = {}
    previous = ""
    for segment in segments:
        if segment.wildcard:
            if segment.wildcard == "**":
                raise ValueError(f"{template}: `**` has no OpenAPI path parameter")
            name = previous[:-1] if previous.endswith("s") else (previous or segment.variable.replace(".", "_"))
            parts.append(f"{{{name}}}")
            parameters.append((name, segment.variable, ""))
        else:
            parts.append(segment.literal)
            previous = segment.literal
        if segment.variable:
            spelled.setdefault(segment.variable, []).append(parts[-1])
    path = "/" + "/".join(parts) + (f":{verb}" if verb else "")
    return path, [(name, field, "/".join(spelled[field])) for name, field, _ in parameters]


def _operation(types: _Types, schemas: dict, rpc: Rpc, binding: HttpBinding, index: int) -> tuple[str, dict]:
    path, path_parameters = openapi_path(binding.template)
    service_name = rpc.service.rsplit(".", 1)[1]
    bound = {field for _, field, _ in path_parameters}
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": f"`{field}` is `{spelled}`",
        }
        for name, field, spelled in path_parameters
    ]
    request = types.messages[rpc.input_type]
    operation: dict = {
        "operationId": f"{service_name}_{rpc.name}" + (f"_{index + 1}" if index else ""),
        "summary": f"{service_name}.{rpc.name}",
        "tags": [service_name],
    }
    if binding.body == "*":
        body_schema = _body_schema(types, schemas, rpc.input_type, {f.split(".")[0] for f in bound})
        if rpc.client_streaming:
            body_schema = {"type": "array", "items": body_schema, "description": "the stream's messages, in order"}
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body_schema}}}
    else:
        if binding.body:
            field = next(f for f in request.field if f.name == binding.body)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _field_schema(types, schemas, field)}},
            }
        skip = bound | ({binding.body} if binding.body else set())
        parameters += _query_parameters(types, request, "", skip, depth=0)
    if parameters:
        operation["parameters"] = parameters
    response = _schema_of_message(types, schemas, rpc.output_type)
    if binding.response_body:
        field = next(f for f in types.messages[rpc.output_type].field if f.name == binding.response_body)
        response = _field_schema(types, schemas, field)
    description = "OK"
    if rpc.server_streaming:
        description = "A stream: newline-delimited JSON, one message per line, each written as it comes."
    operation["responses"] = {
        "200": {"description": description, "content": {"application/json": {"schema": response}}},
        "default": {
            "description": "An error: google.rpc.Status with the HTTP status of its gRPC code.",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{STATUS}"}}},
        },
    }
    return path, operation


def _body_schema(types: _Types, schemas: dict, message: str, bound: set[str]) -> dict:
    reference = _schema_of_message(types, schemas, message)
    if not bound:
        return reference
    whole = schemas[message]
    kept = {k: v for k, v in whole.get("properties", {}).items() if _proto_name(types, message, k) not in bound}
    return {"type": "object", "properties": kept, "description": f"{message} without the fields the path sets"}


def _proto_name(types: _Types, message: str, json_name: str) -> str:
    for field in types.messages[message].field:
        if (field.json_name or field.name) == json_name:
            return field.name
    return json_name


def _query_parameters(types: _Types, message, prefix: str, skip: set[str], depth: int) -> list[dict]:
    found = []
    for field in message.field:
        path = prefix + field.name
        if path in skip:
            continue
        repeated = field.label == FieldProto.LABEL_REPEATED
        if field.type == FieldProto.TYPE_MESSAGE:
            name = field.type_name.lstrip(".")
            nested = types.messages[name]
            if nested.options.map_entry or (repeated and name not in _WELL_KNOWN):
                continue  # not expressible in a query string
            if name in _WELL_KNOWN:
                schema = dict(_WELL_KNOWN[name])
            elif depth < 2:
                found += _query_parameters(types, nested, path + ".", skip, depth + 1)
                continue
            else:
                continue
        else:
            schema = _scalar_schema(types, field)
        if repeated:
            schema = {"type": "array", "items": schema}
        parameter = {"name": path, "in": "query", "required": False, "schema": schema}
        if repeated:
            parameter.update({"style": "form", "explode": True})
        found.append(parameter)
    return found


def _schema_of_message(types: _Types, schemas: dict, name: str) -> dict:
    if name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[name])
    reference = {"$ref": f"#/components/schemas/{name}"}
    if name in schemas:
        return reference
    schemas[name] = {}  # placeholder: recursive messages refer to it
    message = types.messages[name]
    properties = {}
    for field in message.field:
        properties[field.json_name or field.name] = _field_schema(types, schemas, field)
    schema: dict = {"type": "object", "properties": properties}
    if name == STATUS:
        schema["description"] = "An error: the gRPC code, a message, and details such as google.rpc.BadRequest."
    schemas[name] = schema
    return reference


def _field_schema(types: _Types, schemas: dict, field) -> dict:
    repeated = field.label == FieldProto.LABEL_REPEATED
    if field.type == FieldProto.TYPE_MESSAGE:
        name = field.type_name.lstrip(".")
        nested = types.messages.get(name)
        if nested is not None and nested.options.map_entry:
            value = next(f for f in nested.field if f.name == "value")
            return {"type": "object", "additionalProperties": _field_schema(types, schemas, value)}
        schema = _schema_of_message(types, schemas, name)
    else:
        schema = _scalar_schema(types, field)
    return {"type": "array", "items": schema} if repeated else schema


def _scalar_schema(types: _Types, field) -> dict:
    kind = field.type
    if kind in (FieldProto.TYPE_DOUBLE, FieldProto.TYPE_FLOAT):
        return {"type": "number", "format": "double" if kind == FieldProto.TYPE_DOUBLE else "float"}
    if kind in _INT32:
        return {"type": "integer", "format": "int32"}
    if kind in _UINT32:
        return {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295}
    if kind in _INT64:
        return {"type": "string", "format": "int64", "description": "a 64-bit integer, as a string"}
    if kind in _UINT64:
        return {"type": "string", "format": "uint64", "description": "a 64-bit integer, as a string"}
    if kind == FieldProto.TYPE_BOOL:
        return {"type": "boolean"}
    if kind == FieldProto.TYPE_BYTES:
        return {"type": "string", "format": "byte", "description": "base64"}
    if kind == FieldProto.TYPE_ENUM:
        enum = types.enums[field.type_name.lstrip(".")]
        return {"type": "string", "enum": [value.name for value in enum.value]}
    return {"type": "string"}
