"""Routing derived from the protos: every RPC's gRPC path and its google.api.http bindings.

Nothing here names an RPC. The route table is read at start-up from the descriptors of
the generated service modules, so an RPC added to a proto is served by the gateway as
soon as its code is regenerated.
"""

from __future__ import annotations

import importlib
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType

from google.api import annotations_pb2, http_pb2
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class TemplateError(ValueError):
    """A google.api.http path template the gateway cannot parse; the message quotes it."""


@dataclass(frozen=True)
class PathTemplate:
    """A compiled path template such as `/v1/{name=files/*}:download`."""

    template: str
    regex: re.Pattern[str]
    variables: tuple[str, ...]  # field paths, in the order of the regex groups g0, g1, ...
    literal_count: int
    has_verb: bool

    def match(self, raw_path: str) -> dict[str, str] | None:
        """The decoded variable values by field path, or None when the path does not match."""
        found = self.regex.fullmatch(raw_path)
        if found is None:
            return None
        return {field: urllib.parse.unquote(found.group(f"g{i}")) for i, field in enumerate(self.variables)}


def parse_template(template: str) -> PathTemplate:
    """Compiles a google.api.http path template to a regular expression over the raw path.

    `*` matches one segment, `**` the rest of the path; `{field=pattern}` captures what
    its pattern matches and `{field}` one segment; a trailing `:verb` is a literal.
    Raises TemplateError for templates outside that grammar.
    """
    if not template.startswith("/"):
        raise TemplateError(f"path template {template!r} must start with '/'")
    path, verb = template, ""
    colon = template.rfind(":")
    if colon > template.rfind("}") and colon > template.rfind("/"):
        path, verb = template[:colon], template[colon + 1 :]
    parts, variables, literal_count = [], [], 0
    for segment in _top_level_segments(path[1:], template):
        if segment.startswith("{"):
            if not segment.endswith("}"):
                raise TemplateError(f"unbalanced braces in path template {template!r}")
            field, _, pattern = segment[1:-1].partition("=")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", field):
                raise TemplateError(f"bad field path {field!r} in path template {template!r}")
            inner = [_segment_regex(s, template) for s in (pattern or "*").split("/")]
            literal_count += sum(1 for s in (pattern or "*").split("/") if s not in ("*", "**"))
            parts.append(f"(?P<g{len(variables)}>{'/'.join(inner)})")
            variables.append(field)
        else:
            parts.append(_segment_regex(segment, template))
            literal_count += segment not in ("*", "**")
    regex = "/" + "/".join(parts) + (re.escape(":" + verb) if verb else "")
    return PathTemplate(template, re.compile(regex), tuple(variables), literal_count, bool(verb))


def _top_level_segments(path: str, template: str) -> list[str]:
    segments, depth, current = [], 0, ""
    for char in path:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if depth not in (0, 1):
            raise TemplateError(f"unbalanced braces in path template {template!r}")
        if char == "/" and depth == 0:
            segments.append(current)
            current = ""
        else:
            current += char
    segments.append(current)
    if depth != 0 or any(s == "" for s in segments):
        raise TemplateError(f"malformed path template {template!r}")
    return segments


def _segment_regex(segment: str, template: str) -> str:
    if segment == "*":
        return "[^/]+"
    if segment == "**":
        return ".+"
    if not re.fullmatch(r"[A-Za-z0-9._~-]+", segment):
        raise TemplateError(f"bad literal {segment!r} in path template {template!r}")
    return re.escape(segment)


@dataclass(frozen=True)
class HttpBinding:
    """One HTTP verb + path template of an RPC, and where the body goes."""

    http_method: str  # upper case: GET, POST, ...
    template: PathTemplate
    body: str  # "" (no body), "*" (the whole request) or a top-level field name
    response_body: str  # "" (the whole response) or a top-level field name


@dataclass(frozen=True)
class MethodRoute:
    """An RPC the gateway forwards: its upstream service and how it is reached over HTTP."""

    service: str  # upstream key, e.g. "upload": its address comes from the configuration
    grpc_path: str  # "/tsforge.upload.v1.UploadService/GetFile"
    method: MethodDescriptor
    request_class: type[Message]
    response_class: type[Message]
    bindings: tuple[HttpBinding, ...]

    @property
    def client_streaming(self) -> bool:
        return self.method.client_streaming

    @property
    def server_streaming(self) -> bool:
        return self.method.server_streaming


@dataclass(frozen=True)
class RestMatch:
    route: MethodRoute
    binding: HttpBinding
    path_params: dict[str, str]


class RouteTable:
    """Every forwarded RPC, looked up by gRPC path or by HTTP method and path."""

    def __init__(self, routes: Iterable[MethodRoute]):
        self.routes = tuple(routes)
        self._by_grpc_path = {route.grpc_path: route for route in self.routes}
        pairs = [(route, binding) for route in self.routes for binding in route.bindings]
        # Custom methods (`...:download`) before plain ones, then the more literal template
        # first: `/v1/{name=files/*}` must not swallow `/v1/files/x:download`.
        self._rest = sorted(pairs, key=lambda p: (not p[1].template.has_verb, -p[1].template.literal_count))

    def by_grpc_path(self, path: str) -> MethodRoute | None:
        return self._by_grpc_path.get(path)

    def match_rest(self, http_method: str, raw_path: str) -> RestMatch | None:
        """The binding for this HTTP method and raw (still percent-encoded) path, if any."""
        for route, binding in self._rest:
            if binding.http_method != http_method:
                continue
            params = binding.template.match(raw_path)
            if params is not None:
                return RestMatch(route, binding, params)
        return None

    def allowed_methods(self, raw_path: str) -> list[str]:
        """The HTTP methods some binding accepts for this path (for 405 answers)."""
        return sorted({b.http_method for _, b in self._rest if b.template.match(raw_path) is not None})


def service_modules(names: Iterable[str]) -> dict[str, ModuleType]:
    """The generated `tsforge.<name>.v1.<name>_service_pb2` module of each service."""
    return {name: importlib.import_module(f"tsforge.{name}.v1.{name}_service_pb2") for name in names}


def load_routes(modules: Mapping[str, ModuleType]) -> RouteTable:
    """Builds the route table from every service declared in the given generated modules.

    Raises TemplateError when an annotation's path template cannot be parsed.
    """
    routes = []
    for service_key, module in modules.items():
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                routes.append(
                    MethodRoute(
                        service=service_key,
                        grpc_path=f"/{service.full_name}/{method.name}",
                        method=method,
                        request_class=message_factory.GetMessageClass(method.input_type),
                        response_class=message_factory.GetMessageClass(method.output_type),
                        bindings=tuple(_bindings(rule)),
                    )
                )
    return RouteTable(routes)


def _bindings(rule: http_pb2.HttpRule) -> Iterable[HttpBinding]:
    pattern = rule.WhichOneof("pattern")
    if pattern in _HTTP_METHODS:
        yield HttpBinding(pattern.upper(), parse_template(getattr(rule, pattern)), rule.body, rule.response_body)
    elif pattern == "custom":
        yield HttpBinding(rule.custom.kind.upper(), parse_template(rule.custom.path), rule.body, rule.response_body)
    for extra in rule.additional_bindings:
        yield from _bindings(extra)
