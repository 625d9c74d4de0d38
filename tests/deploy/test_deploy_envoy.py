"""deploy/envoy/envoy.yaml: valid for Envoy's v3 API, and routing every service and RPC."""

from __future__ import annotations

import copy
import re

import pytest
from envoy.config.bootstrap.v3 import bootstrap_pb2
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2, json_format

from tests.deploy.deploy_files import (
    DESCRIPTOR_SET,
    ENVOY_CONFIG,
    deploy_name,
    import_envoy_types,
    load_yaml,
    proto_services,
    sample_path,
)
from tsforge.core.config import SERVICE_PORTS

TRANSCODER = "envoy.filters.http.grpc_json_transcoder"


@pytest.fixture(scope="module")
def envoy_config() -> dict:
    return load_yaml(ENVOY_CONFIG)


def parse_bootstrap(config: dict) -> bootstrap_pb2.Bootstrap:
    import_envoy_types(config)
    return json_format.ParseDict(config, bootstrap_pb2.Bootstrap(), ignore_unknown_fields=False)


def connection_manager(config: dict) -> dict:
    (listener,) = config["static_resources"]["listeners"]
    (chain,) = listener["filter_chains"]
    (hcm,) = chain["filters"]
    return hcm["typed_config"]


def http_filter(config: dict, name: str) -> dict:
    return next(f["typed_config"] for f in connection_manager(config)["http_filters"] if f["name"] == name)


def _header_matches(headers: dict[str, str], matcher: dict) -> bool:
    value = headers.get(matcher["name"])
    if value is None:
        return False
    rule = matcher["string_match"]
    if "exact" in rule:
        found = value == rule["exact"]
    elif "prefix" in rule:
        found = value.startswith(rule["prefix"])
    else:
        found = re.fullmatch(rule["safe_regex"]["regex"], value) is not None
    return found != matcher.get("invert_match", False)


def route_for(config: dict, path: str, headers: dict[str, str] | None = None) -> dict | None:
    """The route Envoy's router picks for `path` (first match wins), or None."""
    (virtual_host,) = connection_manager(config)["route_config"]["virtual_hosts"]
    headers = headers or {}
    for route in virtual_host["routes"]:
        match = route["match"]
        assert set(match) <= {"prefix", "path", "headers"}, f"teach route_for this match: {match}"
        if "prefix" in match and not path.startswith(match["prefix"]):
            continue
        if "path" in match and path != match["path"]:
            continue
        if all(_header_matches(headers, h) for h in match.get("headers", [])):
            return route.get("route") or route
    return None


def test_parses_as_envoy_v3_bootstrap(envoy_config: dict) -> None:
    bootstrap = parse_bootstrap(envoy_config)
    assert bootstrap.static_resources.listeners[0].address.socket_address.port_value == 8080


def test_parse_rejects_a_field_envoy_does_not_know(envoy_config: dict) -> None:
    broken = copy.deepcopy(envoy_config)
    http_filter(broken, TRANSCODER)["stream_newline_delimeted"] = True
    with pytest.raises(json_format.ParseError, match="stream_newline_delimeted"):
        parse_bootstrap(broken)


def test_filters_in_order_ending_with_the_router(envoy_config: dict) -> None:
    names = [f["name"] for f in connection_manager(envoy_config)["http_filters"]]
    assert names == ["envoy.filters.http.grpc_web", "envoy.filters.http.cors", TRANSCODER, "envoy.filters.http.router"]


def test_cors_exposes_grpc_status_headers(envoy_config: dict) -> None:
    (virtual_host,) = connection_manager(envoy_config)["route_config"]["virtual_hosts"]
    policy = virtual_host["typed_per_filter_config"]["envoy.filters.http.cors"]
    exposed = {h.strip() for h in policy["expose_headers"].split(",")}
    assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= exposed


def test_transcoder_serves_every_service(envoy_config: dict) -> None:
    transcoder = http_filter(envoy_config, TRANSCODER)
    assert sorted(transcoder["services"]) == sorted(proto_services())
    assert transcoder["proto_descriptor"] == "/etc/envoy/" + DESCRIPTOR_SET.name
    assert transcoder["convert_grpc_status"] is True
    assert transcoder["print_options"]["stream_newline_delimited"] is True


@pytest.mark.parametrize("service", sorted(proto_services()))
def test_every_rpc_routes_to_its_service_with_no_timeout(envoy_config: dict, service: str) -> None:
    for rpc in proto_services()[service]:
        route = route_for(envoy_config, rpc.grpc_path, {"content-type": "application/grpc"})
        assert route is not None, f"no route for {rpc.grpc_path}"
        assert route["cluster"] == deploy_name(service), rpc.grpc_path
        if rpc.server_streaming:
            assert route["timeout"] == "0s", f"{rpc.grpc_path} streams: Envoy's 15 s default would cut it"


@pytest.mark.parametrize("service", sorted(proto_services()))
def test_every_rest_path_has_a_route_with_a_cluster_for_cors(envoy_config: dict, service: str) -> None:
    # Transcoded calls are routed by their gRPC path; before that (and for CORS
    # preflights, which are not transcoded) the path needs a route with a cluster: Envoy's
    # CORS filter skips direct responses. The console answers untranscoded /v1 paths.
    for rpc in proto_services()[service]:
        assert rpc.http_paths, f"{rpc.grpc_path} has no google.api.http binding"
        for template in rpc.http_paths:
            route = route_for(envoy_config, sample_path(template), {"content-type": "application/json"})
            assert route is not None and route.get("cluster") == "console", template


@pytest.mark.parametrize("service", sorted(proto_services()))
def test_reflection_and_health_reach_each_server(envoy_config: dict, service: str) -> None:
    header = {"tsforge-service": deploy_name(service)}
    for path in (
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
    ):
        route = route_for(envoy_config, path, {**header, "content-type": "application/grpc-web+proto"})
        assert route is not None and route["cluster"] == deploy_name(service), path


def test_a_cluster_per_service_over_http2_with_grpc_health_checks(envoy_config: dict) -> None:
    clusters = {c["name"]: c for c in envoy_config["static_resources"]["clusters"]}
    assert sorted(clusters) == sorted([*(deploy_name(s) for s in proto_services()), "console"])
    for service in proto_services():
        cluster = clusters[deploy_name(service)]
        options = cluster["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
        assert "http2_protocol_options" in options["explicit_http_config"]
        (check,) = cluster["health_checks"]
        assert check["grpc_health_check"]["service_name"] == service
        (locality,) = cluster["load_assignment"]["endpoints"]
        (endpoint,) = locality["lb_endpoints"]
        assert endpoint["endpoint"]["address"]["socket_address"]["port_value"] == SERVICE_PORTS[deploy_name(service)]


def test_descriptor_set_holds_every_rpc_with_its_http_rules() -> None:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file
    methods = {
        f"/{file.package}.{service.name}/{method.name}": method
        for file in files
        for service in file.service
        for method in service.method
    }
    for rpcs in proto_services().values():
        for rpc in rpcs:
            method = methods.get(rpc.grpc_path)
            assert method is not None, f"{DESCRIPTOR_SET.name} lacks {rpc.grpc_path}: run `make edge-config`"
            assert method.server_streaming == rpc.server_streaming
            assert method.options.HasExtension(annotations_pb2.http), rpc.grpc_path
