"""deploy/compose/compose.yaml against the Compose Specification's JSON schema.

The schema is the copy check-jsonschema vendors (compose-spec.json); nothing is
fetched at test time.
"""

from __future__ import annotations

import copy
import json
from importlib import resources

import jsonschema
import pytest

from tests.deploy.deploy_files import COMPOSE, DEPLOY, ENVOY_CONFIG, deploy_name, load_yaml, proto_services


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_matches_the_compose_spec(compose: dict, validator: jsonschema.protocols.Validator) -> None:
    errors = sorted(validator.iter_errors(compose), key=lambda e: e.json_path)
    assert not errors, "\n".join(f"{e.json_path}: {e.message[:300]}" for e in errors)


def test_schema_rejects_unknown_keys(compose: dict, validator: jsonschema.protocols.Validator) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["envoy"]["port"] = ["8080:8080"]
    assert not validator.is_valid(broken)


def test_every_service_and_its_dependencies_run(compose: dict) -> None:
    services = compose["services"]
    for service in proto_services():
        name = deploy_name(service)
        assert services[name]["command"][:3] == ["up", "--only", name], name
    # The training API runs without workers there: the training-worker service trains.
    assert services["training"]["command"][3:] == ["--workers", "0"]
    assert services["training-worker"]["command"] == ["worker", "training"]
    assert {"postgres", "minio", "minio-init", "training-worker", "envoy", "console"} <= set(services)
    assert services["console"]["command"][:1] == ["console"]


def test_envoy_mounts_its_config_and_the_descriptor_set(compose: dict) -> None:
    transcoder = next(
        f["typed_config"]
        for f in load_yaml(ENVOY_CONFIG)["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
            "typed_config"
        ]["http_filters"]
        if f["name"] == "envoy.filters.http.grpc_json_transcoder"
    )
    mounts = {}
    for volume in compose["services"]["envoy"]["volumes"]:
        source, target, _ = volume.split(":")
        mounts[target] = (COMPOSE.parent / source).resolve()
    assert mounts["/etc/envoy/envoy.yaml"] == ENVOY_CONFIG
    assert mounts[transcoder["proto_descriptor"]] == DEPLOY / "envoy" / "tsforge.pb"
