"""Every RPC of every tsforge service, and every field of its request, read from the
generated descriptors: a new RPC or field is covered by the tests that use these
without a line changed here."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor

from tsforge.core.request_checks import DEFAULT_MAX_REPEATED, MAX_FREE_TEXT_CHARS, MAX_TEXT_CHARS, REPEATED_LIMITS

PROTO_PACKAGES = ("common", "upload", "training", "evaluation", "models")
_HTTP_RULE_FIELD = 72295728  # google.api.http
_WELL_KNOWN = ("google.protobuf.Timestamp", "google.protobuf.Duration")


@dataclass(frozen=True)
class Rpc:
    service: str  # "upload", as the platform names its parts
    method: MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def name(self) -> str:
        return f"{self.method.containing_service.name}.{self.method.name}"

    @property
    def request_class(self) -> type:
        return message_factory.GetMessageClass(self.method.input_type)

    @property
    def client_streaming(self) -> bool:
        return self.method.client_streaming

    @property
    def server_streaming(self) -> bool:
        return self.method.server_streaming

    def http_path(self) -> str:
        """The primary REST path template, e.g. "/v1/{name=files/*}"."""
        from google.api import annotations_pb2

        rule = self.method.GetOptions().Extensions[annotations_pb2.http]
        return getattr(rule, rule.WhichOneof("pattern"))

    def path_resources(self) -> dict[str, str]:
        """Field path -> resource pattern of each variable of the REST path,
        e.g. {"file.name": "files/*"}."""
        return dict(re.findall(r"\{([a-z_.]+)=([^}]+)\}", self.http_path()))


def all_rpcs() -> list[Rpc]:
    """Every method of every service in tsforge's generated modules, in a stable order."""
    rpcs = []
    for package in PROTO_PACKAGES:
        module = importlib.import_module(f"tsforge.{package}.v1")
        for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda i: i.name):
            if info.name.endswith("_pb2"):
                file = importlib.import_module(f"tsforge.{package}.v1.{info.name}").DESCRIPTOR
                for service in file.services_by_name.values():
                    rpcs += [Rpc(package, method) for method in service.methods]
    return rpcs


@dataclass(frozen=True)
class FieldPath:
    """A field reached from the request through singular or repeated message fields."""

    fields: tuple[FieldDescriptor, ...]

    @property
    def leaf(self) -> FieldDescriptor:
        return self.fields[-1]

    @property
    def text(self) -> str:
        """How a field violation names it, elements of repeated fields at index 0."""
        parts = []
        for f in self.fields[:-1]:
            parts.append(f"{f.name}[0]" if f.is_repeated else f.name)
        parts.append(self.leaf.name)
        return ".".join(parts)


def field_paths(descriptor: Descriptor, depth: int = 6) -> Iterator[FieldPath]:
    """Every field reachable from a message type, each message type once per path
    (no recursion), Timestamp and Duration as leaves, map fields as leaves."""

    def walk(message: Descriptor, prefix: tuple[FieldDescriptor, ...], seen: frozenset[str]) -> Iterator[FieldPath]:
        for f in message.fields:
            path = (*prefix, f)
            yield FieldPath(path)
            if (
                f.type == FieldDescriptor.TYPE_MESSAGE
                and not is_map(f)
                and f.message_type.full_name not in _WELL_KNOWN
                and f.message_type.full_name not in seen
                and len(path) < depth
            ):
                yield from walk(f.message_type, path, seen | {f.message_type.full_name})

    yield from walk(descriptor, (), frozenset({descriptor.full_name}))


def is_map(f: FieldDescriptor) -> bool:
    return f.type == FieldDescriptor.TYPE_MESSAGE and f.message_type.GetOptions().map_entry


def container_of(message, path: FieldPath):
    """The message holding the leaf field, creating the way there (the first element of
    each repeated message field on the way)."""
    for f in path.fields[:-1]:
        if f.is_repeated:
            elements = getattr(message, f.name)
            message = elements[0] if len(elements) else elements.add()
        else:
            message = getattr(message, f.name)
    return message


def is_free_text(f: FieldDescriptor) -> bool:
    return f.name in ("description", "reason", "failure_reason") or f.name.endswith("_description")


def text_limit(f: FieldDescriptor) -> int:
    return MAX_FREE_TEXT_CHARS if is_free_text(f) else MAX_TEXT_CHARS


def repeated_limit(f: FieldDescriptor) -> int:
    return REPEATED_LIMITS.get(f.full_name, DEFAULT_MAX_REPEATED)
