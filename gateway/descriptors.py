"""What the edge knows about the API, read from protobuf descriptors: every tsforge gRPC
service, its RPCs and their google.api.http bindings.

Both sources hold the same protos: a FileDescriptorSet (deploy/envoy/tsforge.pb, built
by buf from protos/) and the generated *_pb2 modules (built by protoc from protos/ and
kept fresh by `make gen-check`). The running edge uses the modules, so the descriptor
set it hands Envoy is always the one the services themselves run.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

import tsforge

HTTP_VERBS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class HttpBinding:
    """One google.api.http rule of an RPC: verb, path template and where the body goes."""

    verb: str  # upper case: GET, POST, ...
    template: str  # e.g. /v1/{name=files/*}:download
    body: str  # "" (none), "*" (the whole request) or a top-level field name
    response_body: str


@dataclass(frozen=True)
class Rpc:
    service: str  # full name, e.g. tsforge.upload.v1.UploadService
    name: str
    input_type: str  # full message names, without the leading dot
    output_type: str
    client_streaming: bool
    server_streaming: bool
    bindings: tuple[HttpBinding, ...]

    @property
    def grpc_path(self) -> str:
        return f"/{self.service}/{self.name}"


@dataclass(frozen=True)
class Service:
    full_name: str
    rpcs: tuple[Rpc, ...]

    @property
    def key(self) -> str:
        """The name the service goes by in tsforge's settings and in deploy/ (its package): "upload"."""
        return service_key(self.full_name)


def service_key(full_name: str) -> str:
    return full_name.split(".")[1]


def generated_modules() -> list:
    """Every generated tsforge *_pb2 module (tsforge/<package>/v1/*_pb2.py)."""
    root = Path(tsforge.__file__).parent
    names = (".".join(("tsforge", *p.relative_to(root).with_suffix("").parts)) for p in root.glob("*/v*/*_pb2.py"))
    return [importlib.import_module(name) for name in sorted(names)]


def descriptor_set_from_modules(modules: Iterable | None = None) -> descriptor_pb2.FileDescriptorSet:
    """The FileDescriptorSet of the generated modules and everything they import, dependencies first."""
    ordered: list = []
    seen: set[str] = set()

    def visit(file_descriptor) -> None:
        if file_descriptor.name in seen:
            return
        seen.add(file_descriptor.name)
        for dependency in file_descriptor.dependencies:
            visit(dependency)
        ordered.append(file_descriptor)

    from google.rpc import error_details_pb2, status_pb2

    # The rich error details the services send: the transcoder prints them as JSON.
    for module in [*(generated_modules() if modules is None else modules), error_details_pb2, status_pb2]:
        visit(module.DESCRIPTOR)
    files = []
    for file_descriptor in ordered:
        proto = descriptor_pb2.FileDescriptorProto()
        file_descriptor.CopyToProto(proto)
        files.append(proto)
    return descriptor_pb2.FileDescriptorSet(file=files)


def services(descriptor_set: descriptor_pb2.FileDescriptorSet) -> list[Service]:
    """Every tsforge service in the set, sorted by name, with its RPCs in declaration order."""
    found = []
    for file in descriptor_set.file:
        if not file.package.startswith("tsforge."):
            continue
        for service in file.service:
            full_name = f"{file.package}.{service.name}"
            rpcs = tuple(
                Rpc(
                    service=full_name,
                    name=method.name,
                    input_type=method.input_type.lstrip("."),
                    output_type=method.output_type.lstrip("."),
                    client_streaming=method.client_streaming,
                    server_streaming=method.server_streaming,
                    bindings=tuple(_bindings(method.options.Extensions[annotations_pb2.http])),
                )
                for method in service.method
            )
            found.append(Service(full_name, rpcs))
    return sorted(found, key=lambda s: s.full_name)


def _bindings(rule: http_pb2.HttpRule) -> Iterable[HttpBinding]:
    pattern = rule.WhichOneof("pattern")
    if pattern in HTTP_VERBS:
        yield HttpBinding(pattern.upper(), getattr(rule, pattern), rule.body, rule.response_body)
    elif pattern == "custom":
        yield HttpBinding(rule.custom.kind.upper(), rule.custom.path, rule.body, rule.response_body)
    for extra in rule.additional_bindings:
        yield from _bindings(extra)


# --- path templates ---------------------------------------------------------------------

_VARIABLE = re.compile(r"\{([^=}]+)(?:=([^}]+))?\}")


@dataclass(frozen=True)
class TemplateSegment:
    literal: str  # a literal segment, or "" for a wildcard
    wildcard: str  # "", "*" or "**"
    variable: str  # the field path a wildcard binds, "" for literals


def split_template(template: str) -> tuple[list[TemplateSegment], str]:
    """The segments of a google.api.http path template and its custom verb ("" when none).

    `/v1/{name=files/*}:download` -> [v1, files, *(name)], "download". Raises ValueError
    for a template outside the grammar (no leading slash, unbalanced braces).
    """
    if not template.startswith("/"):
        raise ValueError(f"path template {template!r} must start with '/'")
    path, verb = template, ""
    colon = template.rfind(":")
    if colon > template.rfind("}") and colon > template.rfind("/"):
        path, verb = template[:colon], template[colon + 1 :]
    segments: list[TemplateSegment] = []
    position = 1
    for found in _VARIABLE.finditer(path):
        segments += _literal_segments(path[position : found.start()], template)
        variable, pattern = found.group(1), found.group(2) or "*"
        for part in pattern.split("/"):
            if part in ("*", "**"):
                segments.append(TemplateSegment("", part, variable))
            else:
                segments.append(TemplateSegment(part, "", variable))
        position = found.end() + 1
    segments += _literal_segments(path[position:], template)
    if "{" in path[position:] or "}" in path[position:]:
        raise ValueError(f"unbalanced braces in path template {template!r}")
    return segments, verb


def _literal_segments(text: str, template: str) -> list[TemplateSegment]:
    parts = [p for p in text.strip("/").split("/") if p]
    for part in parts:
        if not re.fullmatch(r"[A-Za-z0-9._~-]+|\*\*?", part):
            raise ValueError(f"bad literal {part!r} in path template {template!r}")
    return [TemplateSegment("", p, "") if p in ("*", "**") else TemplateSegment(p, "", "") for p in parts]


def template_regex(template: str) -> str:
    """An RE2 regular expression matching the request paths (without query) of a template."""
    segments, verb = split_template(template)
    parts = []
    for index, segment in enumerate(segments):
        if segment.wildcard == "**":
            parts.append(".+")
        elif segment.wildcard == "*":
            # The last segment of a template without a verb must not swallow one.
            last_plain = index == len(segments) - 1 and not verb
            parts.append("[^/:]+" if last_plain else "[^/]+")
        else:
            parts.append(re.escape(segment.literal))
    return "/" + "/".join(parts) + (re.escape(":" + verb) if verb else "")


def sample_path(template: str) -> str:
    """A concrete request path for a template: /v1/{name=files/*}:download -> /v1/files/x:download."""
    segments, verb = split_template(template)
    parts = [segment.literal or ("x/y" if segment.wildcard == "**" else "x") for segment in segments]
    return "/" + "/".join(parts) + (f":{verb}" if verb else "")
