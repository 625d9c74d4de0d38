"""Every configuration the renderer makes: fresh where committed, accepted by Envoy itself
(`envoy --mode validate`), and routing every RPC of the protos (checked on the rendered
data here; tests/gateway/test_route_coverage.py sends each one through a running Envoy)."""

from __future__ import annotations

import pytest
import yaml

from gateway import render
from gateway.descriptors import descriptor_set_from_modules, services
from gateway.envoy_process import find_envoy, validate
from gateway.validate import configurations


def test_committed_edge_files_are_what_the_renderer_writes():
    assert render.stale_files() == [], "run `make edge-config` and commit the files it writes"


@pytest.mark.parametrize("name", sorted(configurations()))
def test_envoy_accepts_every_rendered_configuration(name, tmp_path):
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(configurations()[name], sort_keys=False))
    ok, output = validate(find_envoy(None), path)
    assert ok, output[-3000:]


def test_envoy_refuses_a_configuration_with_an_unknown_field(tmp_path):
    document = configurations()["deploy/envoy/envoy.yaml"]
    manager = document["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    manager["stream_idle_timeout_typo"] = "1s"
    path = tmp_path / "envoy.yaml"
    path.write_text(yaml.safe_dump(document))
    ok, output = validate(find_envoy(None), path)
    assert not ok and "stream_idle_timeout_typo" in output


def test_the_runtime_descriptor_set_holds_what_the_committed_one_does():
    committed = render.read_descriptor_set()
    assert services(descriptor_set_from_modules()) == services(committed)
    assert {f.name for f in committed.file} <= {f.name for f in descriptor_set_from_modules().file}
