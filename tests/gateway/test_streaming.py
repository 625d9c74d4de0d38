"""Streaming behaviour through Envoy, against an upload service stand-in whose stream the test controls:
messages are not buffered, a slow client holds back the service, a client that leaves
cancels the upstream call, and metadata and deadlines reach the service."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from gateway.edge import start_edge
from tests.gateway.conftest import Http, edge_config, upstreams_with
from tests.gateway.helpers import frame, parse_body, post, read_frame
from tsforge.upload.v1 import upload_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc

CHUNK = b"x" * (64 << 10)


class ControlledUploads(pb_grpc.UploadServiceServicer):
    """DownloadFile sends a header, then chunks: "files/stepped" one per release(),
    "files/endless" as fast as the call takes them. GetFile records what it was sent."""

    def __init__(self):
        self.releases = threading.Semaphore(0)
        self.terminated = threading.Event()
        self.sent = 0
        self.seen: dict = {}

    def GetFile(self, request, context):
        self.seen = {"metadata": dict(context.invocation_metadata()), "time_remaining": context.time_remaining()}
        return pb.GetFileResponse(file=pb.File(name=request.name))

    def DownloadFile(self, request, context):
        self.terminated.clear()
        self.sent = 0
        context.add_callback(self.terminated.set)
        yield pb.DownloadFileResponse(header=pb.DownloadFileHeader(file_name=request.name))
        if request.name == "files/failing":
            context.abort(grpc.StatusCode.DATA_LOSS, "the object went away")
        if request.name == "files/endless":
            while context.is_active():
                yield pb.DownloadFileResponse(chunk=CHUNK)
                self.sent += 1
            return
        for _ in range(3):
            while not self.releases.acquire(timeout=0.05):
                if not context.is_active():
                    return
            yield pb.DownloadFileResponse(chunk=b"step")
            self.sent += 1


@pytest.fixture(scope="module")
def controlled() -> Iterator[tuple[ControlledUploads, str]]:
    servicer = ControlledUploads()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pb_grpc.add_UploadServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    edge = start_edge(edge_config(), upstreams_with(upload=f"127.0.0.1:{port}"))
    try:
        yield servicer, f"http://127.0.0.1:{edge.port}"
    finally:
        edge.stop()
        server.stop(0)


def _wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_rest_stream_lines_arrive_while_the_service_is_still_sending(controlled):
    servicer, base_url = controlled
    with Http(base_url).open("GET", "/v1/files/stepped:download") as response:
        assert json.loads(response.readline())["header"]["fileName"] == "files/stepped"
        for _ in range(3):
            servicer.releases.release()
            assert json.loads(response.readline()) == {"chunk": "c3RlcA=="}  # this step, before the next exists
        assert response.read() == b""


def test_grpc_web_frames_arrive_while_the_service_is_still_sending(controlled):
    servicer, base_url = controlled
    request = frame(pb.DownloadFileRequest(name="files/stepped").SerializeToString())
    with post(
        base_url,
        "/tsforge.upload.v1.UploadService/DownloadFile",
        request,
        {"Content-Type": "application/grpc-web+proto"},
    ) as response:
        assert pb.DownloadFileResponse.FromString(read_frame(response)[1]).HasField("header")
        for _ in range(3):
            servicer.releases.release()
            flag, payload = read_frame(response)
            assert flag == 0 and pb.DownloadFileResponse.FromString(payload).chunk == b"step"
        flag, trailers = read_frame(response)
        assert flag == 0x80 and b"grpc-status:0" in trailers.replace(b" ", b"")


def test_a_client_that_stops_reading_holds_back_the_service_and_leaving_cancels_it(controlled):
    servicer, base_url = controlled
    response = Http(base_url).open("GET", "/v1/files/endless:download")
    assert "header" in json.loads(response.readline())
    time.sleep(1.0)
    stalled_at = servicer.sent
    time.sleep(0.5)
    # Flow control, not a queue: the service is blocked within a few MiB of socket buffers.
    assert servicer.sent == stalled_at and stalled_at * len(CHUNK) < 64 << 20
    assert not servicer.terminated.is_set()
    response.close()
    assert _wait_for(servicer.terminated.is_set), "the upstream call was not cancelled"


def test_a_grpc_web_client_that_leaves_mid_stream_cancels_the_upstream_call(controlled):
    servicer, base_url = controlled
    request = frame(pb.DownloadFileRequest(name="files/stepped").SerializeToString())
    response = post(
        base_url,
        "/tsforge.upload.v1.UploadService/DownloadFile",
        request,
        {"Content-Type": "application/grpc-web+proto"},
    )
    read_frame(response)  # the header; the service now waits for a release that never comes
    response.close()
    assert _wait_for(servicer.terminated.is_set), "the upstream call was not cancelled"


def test_authorization_request_id_and_deadline_reach_the_service(controlled):
    servicer, base_url = controlled
    headers = {"Authorization": "Bearer abc", "X-Request-Id": "req-42", "grpc-timeout": "5S"}
    reply = Http(base_url).request("GET", "/v1/files/f1", headers=headers)
    assert reply.status == 200 and reply.json()["file"]["name"] == "files/f1"
    assert reply.json()["file"]["sizeBytes"] == "0"  # Envoy prints default values too
    assert servicer.seen["metadata"]["authorization"] == "Bearer abc"
    assert servicer.seen["metadata"]["x-request-id"] == "req-42"
    assert 3 < servicer.seen["time_remaining"] <= 5.1  # gRPC rounds deadlines up a little

    request = frame(pb.GetFileRequest(name="files/f2").SerializeToString())
    with post(
        base_url,
        "/tsforge.upload.v1.UploadService/GetFile",
        request,
        {"Content-Type": "application/grpc-web+proto", **headers, "grpc-timeout": "2000m"},
    ) as response:
        [message], trailers = parse_body(response.read())
    assert pb.GetFileResponse.FromString(message).file.name == "files/f2" and trailers["grpc-status"] == "0"
    assert servicer.seen["metadata"]["authorization"] == "Bearer abc"
    assert 1 < servicer.seen["time_remaining"] <= 2.1


def test_a_stream_that_fails_midway_ends_with_its_status(controlled):
    _, base_url = controlled
    request = frame(pb.DownloadFileRequest(name="files/failing").SerializeToString())
    with post(
        base_url, "/tsforge.upload.v1.UploadService/DownloadFile", request, {"Content-Type": "application/grpc-web"}
    ) as response:
        messages, trailers = parse_body(response.read())
    assert len(messages) == 1 and trailers["grpc-status"] == "15" and trailers["grpc-message"]

    # REST: the lines sent so far, then the status as HTTP trailers of the chunked body.
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /v1/files/failing:download HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n")
        raw = b""
        while not raw.endswith(b"\r\n\r\n") or b"0\r\n" not in raw:
            chunk = connection.recv(65536)
            if not chunk:
                break
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert b'"fileName":"files/failing"' in body
    assert body.endswith(b"0\r\ngrpc-status: 15\r\ngrpc-message: the object went away\r\n\r\n"), body[-200:]
