"""Routing and transcoding derived from descriptors, checked on plain data (no servers)."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from gateway.rest import RequestError, build_requests, http_status
from gateway.routes import TemplateError, load_routes, parse_template, service_modules
from tsforge.core.config import SERVICE_PORTS


@pytest.fixture(scope="module")
def table():
    return load_routes(service_modules(SERVICE_PORTS))


def test_every_rpc_of_every_service_has_a_grpc_path_and_an_http_binding(table):
    services = {route.grpc_path.split("/")[1] for route in table.routes}
    assert services == {
        "tsforge.upload.v1.UploadService",
        "tsforge.training.v1.TrainingService",
        "tsforge.evaluation.v1.EvaluationService",
        "tsforge.models.v1.ModelsService",
    }
    assert all(route.bindings for route in table.routes)


@pytest.mark.parametrize(
    ("method", "path", "rpc", "params"),
    [
        ("GET", "/v1/files/abc", "GetFile", {"name": "files/abc"}),
        ("GET", "/v1/files/abc:download", "DownloadFile", {"name": "files/abc"}),
        ("POST", "/v1/uploads/u%2F1:write", "WriteUploadChunk", {"name": "uploads/u/1"}),
        ("PATCH", "/v1/files/f", "UpdateFile", {"file.name": "files/f"}),
        ("POST", "/v1/files:upload", "UploadFile", {}),
        ("GET", "/v1/sessions/s/datasets/d", "GetDataset", {"name": "sessions/s/datasets/d"}),
    ],
)
def test_paths_match_their_rpc_with_decoded_variables(table, method, path, rpc, params):
    match = table.match_rest(method, path)
    assert match.route.method.name == rpc and match.path_params == params


def test_templates_cover_the_grammar_and_refuse_what_is_outside_it():
    template = parse_template("/v1/{name=projects/*/things/**}:run")
    assert template.match("/v1/projects/p/things/a/b:run") == {"name": "projects/p/things/a/b"}
    assert template.match("/v1/projects/p/other/a:run") is None
    assert parse_template("/v1/{parent}/items").match("/v1/x/items") == {"parent": "x"}
    for bad in ("v1/x", "/v1/{name=files/*", "/v1//x", "/v1/{1bad}"):
        with pytest.raises(TemplateError):
            parse_template(bad)


def test_query_parameters_take_proto_or_json_names_and_typed_values(table):
    match = table.match_rest("GET", "/v1/files")
    [request] = build_requests(
        match.route, match.binding, {}, MultiDict(pageSize="2", page_token="t", role="FEATURE_ROLE_OUTPUT"), b""
    )
    assert (request.page_size, request.page_token, request.role) == (2, "t", 2)
    with pytest.raises(RequestError) as caught:
        build_requests(match.route, match.binding, {}, MultiDict(page_size="2.5"), b"")
    assert caught.value.field == "page_size"


def test_body_field_path_variable_and_field_mask_combine(table):
    match = table.match_rest("PATCH", "/v1/files/f")
    [request] = build_requests(
        match.route,
        match.binding,
        match.path_params,
        MultiDict(updateMask="displayName,description"),
        b'{"displayName": "x"}',
    )
    assert request.file.name == "files/f" and request.file.display_name == "x"
    assert list(request.update_mask.paths) == ["display_name", "description"]
    with pytest.raises(RequestError):  # the body owns `file`: it cannot also come from the query
        build_requests(match.route, match.binding, match.path_params, MultiDict({"file.description": "y"}), b"{}")


def test_http_status_follows_google_rpc_code():
    assert [http_status(c) for c in (0, 3, 4, 5, 7, 8, 9, 12, 14, 16)] == [
        200,
        400,
        504,
        404,
        403,
        429,
        400,
        501,
        503,
        401,
    ]
