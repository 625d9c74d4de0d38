"""What the deploy/ checks read: the protos' services, the deploy files, the CRD schemas.

The services and RPCs come from the generated descriptors (tsforge/<package>/v1),
which `make gen-check` keeps equal to protos/: a new service or RPC shows up here
without any change to the tests.
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml
from google.api import annotations_pb2
from google.protobuf import descriptor as protobuf_descriptor

import tsforge

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
ENVOY_CONFIG = DEPLOY / "envoy" / "envoy.yaml"
DESCRIPTOR_SET = DEPLOY / "envoy" / "tsforge.pb"
KUBERNETES = DEPLOY / "kubernetes"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
# CI lays shared/ beside the clone, as the developers' machines have it.
CRD_SCHEMAS = REPO.parent / "shared" / "schemas" / "kubernetes"


@dataclass(frozen=True)
class Rpc:
    service: str  # full name, e.g. tsforge.upload.v1.UploadService
    method: str
    server_streaming: bool
    http_paths: tuple[str, ...]  # every google.api.http binding's path template

    @property
    def grpc_path(self) -> str:
        return f"/{self.service}/{self.method}"


def deploy_name(service: str) -> str:
    """The name a service goes by in deploy/ (cluster, Deployment, Service, route): its package."""
    return service.split(".")[1]


@cache
def proto_services() -> dict[str, list[Rpc]]:
    """Every tsforge gRPC service and its RPCs, from the generated *_pb2 modules."""
    services: dict[str, list[Rpc]] = {}
    package_root = Path(tsforge.__file__).parent
    # Generated packages have no __init__.py, so find the modules by file.
    for path in sorted(package_root.glob("*/v*/*_pb2.py")):
        name = ".".join(("tsforge", *path.relative_to(package_root).with_suffix("").parts))
        module = importlib.import_module(name)
        for service in module.DESCRIPTOR.services_by_name.values():
            services[service.full_name] = [_rpc(service, method) for method in service.methods]
    return services


def _rpc(service: protobuf_descriptor.ServiceDescriptor, method: protobuf_descriptor.MethodDescriptor) -> Rpc:
    rule = method.GetOptions().Extensions[annotations_pb2.http]
    paths = [_rule_path(r) for r in (rule, *rule.additional_bindings)]
    return Rpc(service.full_name, method.name, method.server_streaming, tuple(p for p in paths if p))


def _rule_path(rule) -> str:
    kind = rule.WhichOneof("pattern")
    return "" if kind is None else (rule.custom.path if kind == "custom" else getattr(rule, kind))


def sample_path(template: str) -> str:
    """A concrete request path for a google.api.http path template.

    /v1/{name=files/*}:download -> /v1/files/x:download; {parent} -> x.
    """

    def fill(match: re.Match[str]) -> str:
        pattern = match.group(2) or "*"
        return pattern.replace("**", "x/y").replace("*", "x")

    return re.sub(r"\{([^=}]+)(?:=([^}]+))?\}", fill, template)


# libyaml when PyYAML has it: the CRD bundle is large.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=SafeLoader)


def kubernetes_files() -> list[Path]:
    """Every Kubernetes manifest file (kustomization.yaml is kustomize's, not a resource)."""
    return sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


@cache
def kubernetes_documents() -> tuple[tuple[Path, int, dict], ...]:
    """(file, index in file, document) for every manifest; shared, so copy before changing one."""
    return tuple(
        (path, index, doc)
        for path in kubernetes_files()
        for index, doc in enumerate(yaml.load_all(path.read_text(), Loader=SafeLoader))
        if doc is not None
    )


def documents_of_kind(kind: str) -> list[dict]:
    return [doc for _, _, doc in kubernetes_documents() if doc["kind"] == kind]


@cache
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the CRD's openAPIV3Schema, made strict (see _forbid_unknown)."""
    if not CRD_SCHEMAS.is_dir():
        pytest.fail(
            f"CRD schemas not found at {CRD_SCHEMAS}: the deploy checks need the shared folder "
            "beside the repository (../shared/schemas/kubernetes, as CI lays it out)",
            pytrace=False,
        )
    schemas: dict[tuple[str, str], dict] = {}
    for path in sorted(CRD_SCHEMAS.glob("*.yaml")):
        for crd in yaml.load_all(path.read_text(), Loader=SafeLoader):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schema = _forbid_unknown(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
                    schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def _forbid_unknown(schema: dict) -> dict:
    """Rejects fields the schema does not name, as `kubectl apply` with strict field
    validation does (the API server would otherwise prune them silently)."""
    if isinstance(schema, dict):
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        for value in schema.values():
            if isinstance(value, dict):
                _forbid_unknown(value)
            elif isinstance(value, list):
                for item in value:
                    _forbid_unknown(item)
    return schema


def import_envoy_types(config: object) -> None:
    """Imports the xds-protos modules of every `@type` in `config`, so json_format can
    resolve its Any fields. A type whose package xds-protos lacks raises ImportError."""
    for type_url in _type_urls(config):
        package = type_url.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        module = importlib.import_module(package)
        for path in sorted(Path(module.__path__[0]).glob("*_pb2.py")):
            importlib.import_module(f"{package}.{path.stem}")


def _type_urls(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        if "@type" in value:
            yield value["@type"]
        for item in value.values():
            yield from _type_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _type_urls(item)
