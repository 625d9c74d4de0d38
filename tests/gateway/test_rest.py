"""REST/JSON through Envoy's transcoder with a plain HTTP client: every kind of binding the
upload contract has, and the errors a browser sees."""

from __future__ import annotations

import base64
import json

from tests.gateway.conftest import ALLOWED_ORIGIN
from tests.upload.helpers import csv_bytes, sha256, upload_whole


def _auth(tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.token}"}


def test_chunked_upload_over_rest_with_custom_methods_and_base64_bytes(stack, tenant):
    http, data = stack.http, csv_bytes(120)
    created = http.request(
        "POST",
        "/v1/uploads",
        {"fileName": "load.csv", "role": "FEATURE_ROLE_OUTPUT", "declaredSizeBytes": str(len(data))},
        _auth(tenant),
    )
    assert created.status == 200, created.body
    upload = created.json()["upload"]
    assert upload["state"] == "UPLOAD_STATE_ACTIVE" and upload["name"].startswith("uploads/")

    half = len(data) // 2
    for offset, chunk in ((0, data[:half]), (half, data[half:])):
        written = http.request(
            "POST",
            f"/v1/{upload['name']}:write",
            {"offset": str(offset), "data": base64.b64encode(chunk).decode()},
            _auth(tenant),
        )
        assert written.status == 200, written.body
    assert written.json()["upload"]["receivedBytes"] == str(len(data))
    got = http.request("GET", f"/v1/{upload['name']}", headers=_auth(tenant)).json()["upload"]
    assert got["receivedBytes"] == str(len(data))

    done = http.request("POST", f"/v1/{upload['name']}:complete", {"sha256": sha256(data)}, _auth(tenant))
    assert done.status == 200, done.body
    file = done.json()["file"]
    assert file["role"] == "FEATURE_ROLE_OUTPUT" and file["profile"]["rowCount"] == "120"
    assert file["profile"]["medianStep"] == "3600s"


def test_get_file_by_path_parameter_and_list_pages_by_query(stack, tenant):
    names = [upload_whole(stack.upload.stub, tenant, csv_bytes(30 + i)).name for i in range(3)]
    one = stack.http.request("GET", f"/v1/{names[0]}", headers=_auth(tenant))
    assert one.status == 200 and one.headers["content-type"].startswith("application/json")
    assert one.json()["file"]["name"] == names[0] and one.headers["x-request-id"]

    seen, token = [], ""
    for _ in range(3):
        page = stack.http.request("GET", f"/v1/files?page_size=2&pageToken={token}", headers=_auth(tenant)).json()
        assert len(page["files"]) <= 2
        seen += [f["name"] for f in page["files"]]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert sorted(seen) == sorted(names)
    filtered = stack.http.request("GET", "/v1/files?role=FEATURE_ROLE_OUTPUT", headers=_auth(tenant)).json()
    assert filtered.get("files", []) == []


def test_patch_with_update_mask_query_and_body_field_then_delete(stack, tenant):
    name = upload_whole(stack.upload.stub, tenant, csv_bytes(30)).name
    patched = stack.http.request(
        "PATCH",
        f"/v1/{name}?update_mask=display_name,description",
        {"displayName": "Grid load", "description": "hourly", "role": "FEATURE_ROLE_OUTPUT"},
        _auth(tenant),
    )
    assert patched.status == 200, patched.body
    file = patched.json()["file"]
    assert (file["displayName"], file["description"], file["role"]) == ("Grid load", "hourly", "FEATURE_ROLE_INPUT")

    deleted = stack.http.request("DELETE", f"/v1/{name}", headers=_auth(tenant))
    assert deleted.status == 200 and deleted.json() == {}
    assert stack.http.request("GET", f"/v1/{name}", headers=_auth(tenant)).status == 404


def test_server_stream_arrives_as_one_json_line_per_message(stack, tenant):
    data = csv_bytes(40_000)  # > 1 MiB: the service sends several chunks
    name = upload_whole(stack.upload.stub, tenant, data, chunk=1 << 20).name
    with stack.http.open("GET", f"/v1/{name}:download", headers=_auth(tenant)) as response:
        # Envoy labels the newline-delimited stream application/json.
        assert response.status == 200 and response.headers["Content-Type"] == "application/json"
        lines = [json.loads(line) for line in response]
    header, chunks = lines[0]["header"], [base64.b64decode(line["chunk"]) for line in lines[1:]]
    assert header["sha256"] == sha256(data) and int(header["sizeBytes"]) == len(data)
    assert len(chunks) > 1 and b"".join(chunks) == data


def test_client_streaming_upload_takes_a_json_array_of_messages(stack, tenant):
    data = csv_bytes(60)
    body = [
        {"metadata": {"fileName": "stream.csv", "role": "FEATURE_ROLE_INPUT"}},
        {"chunk": base64.b64encode(data[:1000]).decode()},
        {"chunk": base64.b64encode(data[1000:]).decode()},
    ]
    reply = stack.http.request("POST", "/v1/files:upload", body, _auth(tenant))
    assert reply.status == 200, reply.body
    assert reply.json()["file"]["sha256"] == sha256(data)


def test_bad_input_is_400_with_bad_request_field_violations(stack, tenant):
    reply = stack.http.request("POST", "/v1/uploads", {"role": "FEATURE_ROLE_INPUT"}, _auth(tenant))
    assert reply.status == 400
    status = reply.json()
    assert status["code"] == 3 and status["message"]
    [detail] = [d for d in status["details"] if d["@type"] == "type.googleapis.com/google.rpc.BadRequest"]
    assert "file_name" in [v["field"] for v in detail["fieldViolations"]]


def test_transcoding_errors_are_400_status_json_naming_the_parameter(stack, tenant):
    for path, name in (("/v1/files?page_size=many", "page_size"), ("/v1/files?no_such_field=1", "no_such_field")):
        reply = stack.http.request("GET", path, headers=_auth(tenant))
        assert reply.status == 400, path
        assert reply.headers["content-type"] == "application/json"
        status = reply.json()
        assert status["code"] == 3 and name in status["message"], status
    not_json = stack.http.request("POST", "/v1/uploads", b"{", {**_auth(tenant), "Content-Type": "application/json"})
    assert not_json.status == 400 and not_json.json()["code"] == 3


def test_missing_resources_tokens_routes_and_services(stack, tenant):
    missing = stack.http.request("GET", "/v1/files/nope", headers=_auth(tenant))
    assert missing.status == 404 and missing.json()["code"] == 5

    anonymous = stack.http.request("GET", "/v1/files")
    assert anonymous.status == 401 and anonymous.json()["code"] == 16

    no_route = stack.http.request("GET", "/v1/nothing", headers=_auth(tenant))
    assert no_route.status == 404 and no_route.json()["code"] == 5
    wrong_method = stack.http.request("PUT", "/v1/files/x", headers=_auth(tenant))
    assert wrong_method.status == 405 and "GET" in wrong_method.headers["allow"]
    assert wrong_method.json()["code"] == 12

    down = stack.http.request("GET", "/v1/runs/r1", headers=_auth(tenant))  # the training service is not running
    assert down.status == 503 and down.json()["code"] == 14


def test_request_id_passes_through_and_a_bad_deadline_is_refused(stack, tenant):
    reply = stack.http.request("GET", "/v1/files", headers={**_auth(tenant), "X-Request-Id": "rest-req-1"})
    assert reply.status == 200 and reply.headers["x-request-id"] == "rest-req-1"
    bad = stack.http.request("GET", "/v1/files", headers={**_auth(tenant), "grpc-timeout": "soon"})
    assert bad.status == 400 and bad.json()["code"] == 3


def test_cors_preflight_and_exposed_headers(stack, tenant):
    preflight = stack.http.request(
        "OPTIONS",
        "/v1/files",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    assert "PATCH" in preflight.headers["access-control-allow-methods"]

    reply = stack.http.request("GET", "/v1/files", headers={**_auth(tenant), "Origin": ALLOWED_ORIGIN})
    assert reply.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    exposed = reply.headers["access-control-expose-headers"]
    assert all(h in exposed for h in ("grpc-status", "grpc-message", "grpc-status-details-bin"))

    stranger = stack.http.request(
        "OPTIONS", "/v1/files", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    )
    # Answered by Envoy without an allowed origin: the browser refuses the call.
    assert "access-control-allow-origin" not in stranger.headers
    plain = stack.http.request("GET", "/v1/files", headers={**_auth(tenant), "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in plain.headers
