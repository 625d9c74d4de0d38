"""What the Python gateway got wrong must not come back with Envoy: out-of-range integers
and hostile JSON answered as a bare text/plain 500, an oversized grpc-web frame answered
INVALID_ARGUMENT where a native client gets RESOURCE_EXHAUSTED, and malformed HTTP
requests that wrote the caller's bearer token to the log."""

from __future__ import annotations

import logging
import socket
import struct

import grpc
import pytest

from gateway.edge import start_edge
from tests.gateway.conftest import edge_config, upstreams_with
from tests.gateway.helpers import frame, parse_response, post
from tsforge.upload.v1 import upload_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc

WRITE_CHUNK = "/tsforge.upload.v1.UploadService/WriteUploadChunk"


def _auth(tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.token}"}


def _is_status_json(reply, status: int, code: int) -> bool:
    return (
        reply.status == status
        and reply.headers["content-type"].startswith("application/json")
        and reply.json()["code"] == code
    )


def test_an_out_of_range_integer_in_the_query_is_400_status_json(stack, tenant):
    for value in ("3000000000", "-3000000000", "1e3", "99999999999999999999999"):
        reply = stack.http.request("GET", f"/v1/files?page_size={value}", headers=_auth(tenant))
        assert _is_status_json(reply, 400, 3), (value, reply)
        assert "page_size" in reply.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"upload": ' * 5000 + b"{}" + b"}" * 5000,  # deeply nested
        b'{"upload": {"declaredSizeBytes": ' + b"9" * 100_000 + b"}}",  # a 100k-digit number
        b'{"upload": {"fileName": "' + b"\\ud800" + b'"}}',  # a lone surrogate
        b"[" * 100_000,
    ],
    ids=["nested", "100k-digits", "lone-surrogate", "open-brackets"],
)
def test_hostile_json_bodies_are_400_status_json(stack, tenant, body):
    reply = stack.http.request("POST", "/v1/uploads", body, {**_auth(tenant), "Content-Type": "application/json"})
    assert _is_status_json(reply, 400, 3), reply


def test_an_oversized_grpc_web_frame_is_resource_exhausted_as_for_a_native_client(stack, tenant):
    limit = 8 << 20  # the upload service's receive limit (TSFORGE_GRPC_MAX_MESSAGE_BYTES)
    request = pb.WriteUploadChunkRequest(name="uploads/x", offset=0, data=b"\0" * (limit + 1024))
    with grpc.insecure_channel(stack.upload.address, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        with pytest.raises(grpc.RpcError) as native:
            pb_grpc.UploadServiceStub(channel).WriteUploadChunk(request, metadata=tenant.metadata, timeout=30)
    assert native.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

    headers = {"Content-Type": "application/grpc-web+proto", **_auth(tenant)}
    with post(stack.base_url, WRITE_CHUNK, frame(request.SerializeToString()), headers) as response:
        assert parse_response(response)[1]["grpc-status"] == "8"  # RESOURCE_EXHAUSTED
    # A frame that only claims to be that large: refused as soon as its length is read.
    claim = struct.pack(">BI", 0, limit + 1024) + b"\0" * 100
    with post(stack.base_url, WRITE_CHUNK, claim, headers) as response:
        assert parse_response(response)[1]["grpc-status"] == "8"


MALFORMED = [
    b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\nBad Header: 1\r\n\r\n",
    b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\nContent-Length: -5\r\n\r\n",
    b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\nX: \x00\x01\r\n\r\n",
    b"GET /v1/fi les HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\n\r\n",
    b"POST /v1/uploads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer TOKEN\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    b"\x16\x03\x01\x02\x00Authorization: Bearer TOKEN\r\n\r\n",  # TLS hello bytes, then the token
]


def test_malformed_requests_never_write_the_bearer_token_to_envoys_logs(caplog, tenant):
    token = tenant.token
    # TSFORGE_LOG_LEVEL=DEBUG runs Envoy at its most talkative level tsforge allows (info).
    edge = start_edge(edge_config(log_level="DEBUG"), upstreams_with())
    try:
        with caplog.at_level(logging.DEBUG, logger="gateway.envoy"):
            for request in MALFORMED:
                with socket.create_connection(("127.0.0.1", edge.port), timeout=10) as connection:
                    connection.sendall(request.replace(b"TOKEN", token.encode()))
                    try:
                        while connection.recv(65536):
                            pass
                    except OSError:
                        pass
            stderr = "\n".join(edge.envoy.stderr_tail)
    finally:
        edge.stop()
    logged = caplog.text + stderr
    assert [r for r in caplog.records if r.name == "gateway.envoy.access"], "the test saw no access log"
    assert token not in logged
    assert token.split(".")[1] not in logged  # not even the claims part
