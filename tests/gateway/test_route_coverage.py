"""Every RPC of the protos reaches its own service through the running Envoy: by its gRPC
path over grpc-web and native gRPC, by every google.api.http binding over REST, and each
server's reflection and health by the `tsforge-service` header.

Four stand-in servers answer any method with one empty message and say in their
response headers which server they are and which method they were called as. Services
and bindings come from the descriptors, so a new RPC is covered with no change here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from gateway.descriptors import descriptor_set_from_modules, sample_path, services
from gateway.edge import start_edge
from tests.gateway.conftest import Http, edge_config
from tests.gateway.helpers import frame, parse_response, post

SERVICES = services(descriptor_set_from_modules())
OPEN_PATHS = (
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
)


class Anything(grpc.GenericRpcHandler):
    """Answers every method: reads the requests, sends one empty message, OK."""

    def __init__(self, name: str):
        self.name = name

    def service(self, handler_call_details):
        method = handler_call_details.method

        def answer(requests, context):
            context.send_initial_metadata((("served-by", self.name), ("served-method", method)))
            for _ in requests:
                pass
            yield b""

        return grpc.stream_stream_rpc_method_handler(answer)


@pytest.fixture(scope="module")
def edge_url() -> Iterator[str]:
    servers, upstreams = [], {}
    for service in SERVICES:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((Anything(service.key),))
        upstreams[service.key] = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
        server.start()
        servers.append(server)
    edge = start_edge(edge_config(), upstreams)
    try:
        yield f"http://127.0.0.1:{edge.port}"
    finally:
        edge.stop()
        for server in servers:
            server.stop(0)


def _grpc_web(
    base_url: str, path: str, headers: dict[str, str] | None = None
) -> tuple[str | None, str | None, str | None]:
    with post(base_url, path, frame(b""), {"Content-Type": "application/grpc-web+proto", **(headers or {})}) as reply:
        served = (reply.getheader("served-by"), reply.getheader("served-method"))
        _, trailers = parse_response(reply)
    return served[0], served[1], trailers.get("grpc-status")


@pytest.mark.parametrize("service", SERVICES, ids=[s.key for s in SERVICES])
def test_every_rpc_reaches_its_service_by_grpc_path(edge_url, service):
    for rpc in service.rpcs:
        assert _grpc_web(edge_url, rpc.grpc_path) == (service.key, rpc.grpc_path, "0"), rpc.grpc_path
    port = int(edge_url.rsplit(":", 1)[1])
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:  # native gRPC through the same port
        for rpc in service.rpcs:
            call = channel.unary_unary(rpc.grpc_path)
            _, call_info = call.with_call(b"", timeout=10)
            assert dict(call_info.initial_metadata())["served-by"] == service.key, rpc.grpc_path


@pytest.mark.parametrize("service", SERVICES, ids=[s.key for s in SERVICES])
def test_every_http_binding_reaches_its_rpc_over_rest(edge_url, service):
    http = Http(edge_url)
    for rpc in service.rpcs:
        assert rpc.bindings, f"{rpc.grpc_path} has no google.api.http binding"
        for binding in rpc.bindings:
            path = sample_path(binding.template)
            body = b"[{}]" if rpc.client_streaming else (b"{}" if binding.body else None)
            headers = {"Content-Type": "application/json"} if body else {}
            reply = http.request(binding.verb, path, body, headers)
            where = f"{binding.verb} {binding.template} ({rpc.grpc_path})"
            assert reply.status == 200, (where, reply.body[:300])
            assert (reply.headers.get("served-by"), reply.headers.get("served-method")) == (
                service.key,
                rpc.grpc_path,
            ), where
            if rpc.server_streaming:
                assert [json.loads(line) for line in reply.body.splitlines() if line.strip()], where


@pytest.mark.parametrize("service", SERVICES, ids=[s.key for s in SERVICES])
def test_reflection_and_health_reach_the_server_the_header_names(edge_url, service):
    for path in OPEN_PATHS:
        assert _grpc_web(edge_url, path, {"tsforge-service": service.key})[:2] == (service.key, path), path


def test_reflection_without_the_header_is_unimplemented_not_the_console(edge_url):
    assert _grpc_web(edge_url, OPEN_PATHS[0]) == (None, None, "12")
