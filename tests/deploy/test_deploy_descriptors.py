"""The committed descriptor set and the Envoy Gateway patch that inlines it are fresh.

`make descriptors` builds deploy/envoy/tsforge.pb with buf. Here protoc (grpcio-tools)
builds the same protos into a temporary file: byte equality across two compilers (and
across googleapis-common-protos releases) would be brittle, so the check compares
the parsed descriptors of tsforge's own files, which any proto change alters, and
the list of files.
"""

from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path

import grpc_tools
from google.api import annotations_pb2  # noqa: F401 (registers google.api.http, so options compare parsed)
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from tests.deploy.deploy_files import DEPLOY, DESCRIPTOR_SET, ENVOY_CONFIG, REPO

STALE = "run `make descriptors` and commit deploy/envoy/tsforge.pb and deploy/kubernetes/transcoder-patch-policy.yaml"


def read_set(path: Path) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    return {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes()).file}


def test_descriptor_set_matches_the_protos(tmp_path: Path) -> None:
    protos = REPO / "protos"
    out = tmp_path / "tsforge.pb"
    sources = sorted(str(p.relative_to(protos)) for p in protos.rglob("*.proto"))
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


def test_transcoder_patch_policy_is_rendered_from_the_current_files() -> None:
    spec = importlib.util.spec_from_file_location("render_transcoder_policy", DEPLOY / "render_transcoder_policy.py")
    render_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_module)
    expected = render_module.render(ENVOY_CONFIG.read_text(), DESCRIPTOR_SET.read_bytes())
    assert render_module.POLICY.read_text() == expected, STALE
