"""The OpenAPI description of the REST surface: a valid document that names every binding,
declares the bearer scheme, and that a client can follow literally: the operations below
are called exactly as the document served by the edge at /openapi.json spells them, and
their answers checked against its schemas."""

from __future__ import annotations

import json
import urllib.parse

import jsonschema
import pytest
from openapi_spec_validator import validate

from gateway.descriptors import services
from gateway.openapi import openapi_path
from gateway.render import OPENAPI, read_descriptor_set
from tests.upload.helpers import csv_bytes, upload_whole


@pytest.fixture(scope="module")
def described(stack) -> dict:
    reply = stack.http.request("GET", "/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document == json.loads(OPENAPI.read_text())
    return document


def test_the_document_is_valid_openapi_3_and_declares_the_bearer_scheme(described):
    validate(described)
    assert described["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert described["security"] == [{"bearerAuth": []}]


def test_every_http_binding_is_an_operation():
    document = json.loads(OPENAPI.read_text())
    for service in services(read_descriptor_set()):
        for rpc in service.rpcs:
            for binding in rpc.bindings:
                path, _ = openapi_path(binding.template)
                operation = document["paths"][path][binding.verb.lower()]
                assert operation["operationId"].split("_")[1] == rpc.name, binding.template


def test_path_templates_are_spelled_out_segment_by_segment():
    assert openapi_path("/v1/{name=files/*}:download")[0] == "/v1/files/{file}:download"
    path, parameters = openapi_path("/v1/{name=registeredModels/*/versions/*}")
    assert path == "/v1/registeredModels/{registeredModel}/versions/{version}"
    assert [p[0] for p in parameters] == ["registeredModel", "version"]
    assert parameters[0][2] == "registeredModels/{registeredModel}/versions/{version}"


class Client:
    """Calls operations by operationId, building each request from the document alone."""

    def __init__(self, document: dict, http, token: str):
        self.document, self.http, self.token = document, http, token
        self.by_id = {
            op["operationId"]: (path, verb, op) for path, item in document["paths"].items() for verb, op in item.items()
        }

    def call(self, operation_id: str, path_values: dict | None = None, query: dict | None = None, body=None):
        path, verb, operation = self.by_id[operation_id]
        names = {p["name"]: p["in"] for p in operation.get("parameters", [])}
        for name, value in (path_values or {}).items():
            assert names[name] == "path", name
            path = path.replace("{" + name + "}", urllib.parse.quote(value, safe=""))
        for name in query or {}:
            assert names[name] == "query", name
        if query:
            path += "?" + urllib.parse.urlencode(query)
        assert (body is not None) == ("requestBody" in operation), operation_id
        reply = self.http.request(verb.upper(), path, body, {"Authorization": f"Bearer {self.token}"})
        response = operation["responses"].get(str(reply.status), operation["responses"]["default"])
        schema = response["content"]["application/json"]["schema"]
        jsonschema.Draft7Validator({**schema, "components": self.document["components"]}).validate(reply.json())
        return reply


def test_operations_called_as_described(stack, tenant, described):
    client = Client(described, stack.http, tenant.token)
    file = upload_whole(stack.upload.stub, tenant, csv_bytes(30))

    listed = client.call("UploadService_ListFiles", query={"page_size": 5})
    assert listed.status == 200 and [f["name"] for f in listed.json()["files"]] == [file.name]

    got = client.call("UploadService_GetFile", {"file": file.name.split("/", 1)[1]})
    assert got.status == 200 and got.json()["file"]["profile"]["rowCount"] == "30"

    created = client.call("UploadService_CreateUpload", body={"fileName": "api.csv", "role": "FEATURE_ROLE_INPUT"})
    assert created.status == 200 and created.json()["upload"]["state"] == "UPLOAD_STATE_ACTIVE"

    missing = client.call("UploadService_GetFile", {"file": "does-not-exist"})
    assert missing.status == 404 and missing.json()["code"] == 5
