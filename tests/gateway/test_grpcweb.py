"""grpc-web through Envoy with raw HTTP requests against the real upload service: binary
and text (base64) bodies, trailers as the last frame, errors, CORS."""

from __future__ import annotations

import base64

from google.rpc import error_details_pb2, status_pb2

from tests.gateway.conftest import ALLOWED_ORIGIN
from tests.gateway.helpers import frame, parse_body, parse_response, post
from tests.upload.helpers import csv_bytes, upload_whole
from tsforge.upload.v1 import upload_service_pb2 as pb

GET_FILE = "/tsforge.upload.v1.UploadService/GetFile"


def _headers(tenant, content_type: str = "application/grpc-web+proto", **extra) -> dict[str, str]:
    return {"Content-Type": content_type, "X-Grpc-Web": "1", "Authorization": f"Bearer {tenant.token}", **extra}


def test_grpc_web_text_unary_round_trip(stack, tenant):
    file = upload_whole(stack.upload.stub, tenant, csv_bytes(25))
    body = base64.b64encode(frame(pb.GetFileRequest(name=file.name).SerializeToString()))
    # grpc-web's text clients ask for a text response with Accept, as Envoy expects.
    text = _headers(tenant, "application/grpc-web-text", Accept="application/grpc-web-text")
    with post(stack.base_url, GET_FILE, body, text) as response:
        assert response.status == 200
        assert response.getheader("Content-Type").startswith("application/grpc-web-text")
        raw = response.read()
    assert base64.b64decode(raw[:8], validate=True)  # the body really is base64
    [message], trailers = parse_body(raw, text=True)
    assert pb.GetFileResponse.FromString(message).file.name == file.name
    assert trailers["grpc-status"] == "0" and trailers["x-request-id"]


def test_grpc_web_binary_server_stream_ends_with_a_trailer_frame(stack, tenant):
    data = csv_bytes(60_000)  # about 1.7 MiB: two chunks after the header
    file = upload_whole(stack.upload.stub, tenant, data, chunk=1 << 20)
    request = frame(pb.DownloadFileRequest(name=file.name).SerializeToString())
    with post(
        stack.base_url,
        "/tsforge.upload.v1.UploadService/DownloadFile",
        request,
        _headers(tenant, **{"X-Request-Id": "web-req-7"}),
    ) as response:
        assert response.status == 200 and response.getheader("x-request-id") == "web-req-7"
        raw = response.read()
    messages, trailers = parse_body(raw)
    decoded = [pb.DownloadFileResponse.FromString(m) for m in messages]
    assert decoded[0].header.size_bytes == len(data)
    assert b"".join(m.chunk for m in decoded[1:]) == data and len(decoded) > 2
    assert trailers == {**trailers, "grpc-status": "0", "x-request-id": "web-req-7"}


def test_grpc_web_errors_carry_status_and_rich_details_in_trailers(stack, tenant):
    bad = frame(pb.CreateUploadRequest(upload=pb.Upload(file_name="")).SerializeToString())
    with post(stack.base_url, "/tsforge.upload.v1.UploadService/CreateUpload", bad, _headers(tenant)) as response:
        assert response.status == 200
        # A call that fails before any message: "trailers-only", its status in the headers.
        messages, trailers = parse_response(response)
    assert messages == [] and trailers["grpc-status"] == "3" and trailers["grpc-message"]
    status = status_pb2.Status.FromString(base64.b64decode(trailers["grpc-status-details-bin"] + "=="))
    violations = error_details_pb2.BadRequest()
    status.details[0].Unpack(violations)
    assert "file_name" in [v.field for v in violations.field_violations]

    missing = frame(pb.GetFileRequest(name="files/none").SerializeToString())
    with post(stack.base_url, GET_FILE, missing, {"Content-Type": "application/grpc-web"}) as response:
        assert parse_response(response)[1]["grpc-status"] == "16"  # no token: UNAUTHENTICATED

    with post(stack.base_url, "/tsforge.upload.v1.UploadService/Nope", missing, _headers(tenant)) as response:
        assert parse_response(response)[1]["grpc-status"] == "12"  # UNIMPLEMENTED

    with post(stack.base_url, "/no.Such/Service", missing, _headers(tenant)) as response:
        assert parse_response(response)[1]["grpc-status"] == "12"  # not sent to the console

    with post(stack.base_url, "/tsforge.training.v1.TrainingService/GetRun", frame(b""), _headers(tenant)) as response:
        assert parse_response(response)[1]["grpc-status"] == "14"  # the training service is down

    with post(stack.base_url, GET_FILE, b"\x00\x00\x00", _headers(tenant)) as response:
        status = parse_response(response)[1]["grpc-status"]
    assert status not in ("0", "2"), status  # a truncated frame is refused, never taken or UNKNOWN


def test_grpc_web_cors_preflight_and_exposed_trailer_headers(stack, tenant):
    preflight = stack.http.request(
        "OPTIONS",
        GET_FILE,
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-grpc-web,x-user-agent,grpc-timeout",
        },
    )
    assert preflight.status in (200, 204) and preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    allowed = preflight.headers["access-control-allow-headers"]
    assert all(h in allowed for h in ("authorization", "content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"))

    request = frame(pb.GetFileRequest(name="files/none").SerializeToString())
    with post(stack.base_url, GET_FILE, request, _headers(tenant, Origin=ALLOWED_ORIGIN)) as response:
        assert response.getheader("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
        exposed = response.getheader("Access-Control-Expose-Headers")
        assert all(h in exposed for h in ("grpc-status", "grpc-message", "grpc-status-details-bin"))
        response.read()


def test_grpc_web_body_with_several_frames_streams_a_client_streaming_upload(stack, tenant):
    data = csv_bytes(80)
    messages = [pb.UploadFileRequest(metadata=pb.UploadFileMetadata(file_name="web.csv", role=1))]
    messages += [pb.UploadFileRequest(chunk=data[i : i + 700]) for i in range(0, len(data), 700)]
    body = b"".join(frame(m.SerializeToString()) for m in messages)
    with post(stack.base_url, "/tsforge.upload.v1.UploadService/UploadFile", body, _headers(tenant)) as response:
        [message], trailers = parse_body(response.read())
    assert trailers["grpc-status"] == "0"
    assert pb.UploadFileResponse.FromString(message).file.size_bytes == len(data)


def test_grpc_web_text_server_stream_decodes_to_every_message_and_the_trailers(stack, tenant):
    data = csv_bytes(40_000)  # > 1 MiB: several chunks
    file = upload_whole(stack.upload.stub, tenant, data, chunk=1 << 20)
    body = base64.b64encode(frame(pb.DownloadFileRequest(name=file.name).SerializeToString()))
    text = _headers(tenant, "application/grpc-web-text", Accept="application/grpc-web-text")
    with post(stack.base_url, "/tsforge.upload.v1.UploadService/DownloadFile", body, text) as response:
        messages, trailers = parse_body(response.read(), text=True)
    decoded = [pb.DownloadFileResponse.FromString(m) for m in messages]
    assert decoded[0].header.size_bytes == len(data) and b"".join(m.chunk for m in decoded[1:]) == data
    assert trailers["grpc-status"] == "0"
