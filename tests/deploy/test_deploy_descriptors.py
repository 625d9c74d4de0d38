"""The committed descriptor set and the files rendered from it are fresh.

`make edge-config` builds deploy/envoy/tsforge.pb with buf (protos/ plus google/rpc's
status and error details, which the transcoder prints as JSON), then renders envoy.yaml,
the Envoy Gateway patch and the OpenAPI document from it. Here protoc (grpcio-tools)
builds the same protos into a temporary file: byte equality across two compilers (and
across googleapis-common-protos releases) would be brittle, so the check compares
the parsed descriptors of tsforge's own files, which any proto change alters, and
the list of files.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import grpc_tools
from google.api import annotations_pb2  # noqa: F401 (registers google.api.http, so options compare parsed)
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from gateway import render
from tests.deploy.deploy_files import DESCRIPTOR_SET, REPO

STALE = "run `make edge-config` and commit what it writes"


def read_set(path: Path) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    return {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file}


def test_descriptor_set_matches_the_protos(tmp_path: Path) -> None:
    protos = REPO / "protos"
    out = tmp_path / "tsforge.pb"
    sources = sorted(str(p.relative_to(protos)) for p in protos.rglob("*.proto"))
    sources += ["google/rpc/error_details.proto", "google/rpc/status.proto"]
    status = protoc.main(
        [
            "protoc",
            f"-I{protos}",
            f"-I{sysconfig.get_paths()['purelib']}",
            f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            *sources,
        ]
    )
    assert status == 0, "protoc could not compile protos/"
    built, committed = read_set(out), read_set(DESCRIPTOR_SET)
    assert sorted(committed) == sorted(built), STALE
    for name in sorted(n for n in built if n.startswith("tsforge/")):
        assert committed[name] == built[name], f"{name} changed: {STALE}"


def test_envoy_config_patch_policy_and_openapi_are_rendered_from_the_current_files() -> None:
    assert render.stale_files() == [], STALE
