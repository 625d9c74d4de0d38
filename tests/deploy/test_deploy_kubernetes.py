"""deploy/kubernetes/: every manifest against its schema, and every service routed.

Core kinds go through kubernetes-validate (strict: unknown fields fail) at the newest
Kubernetes release it carries; Gateway API and Envoy Gateway kinds through the CRDs'
openAPIV3Schema from ../shared/schemas/kubernetes with jsonschema, unknown fields
rejected as well. The CRDs' CEL rules (x-kubernetes-validations) need an API server;
the rules this install depends on are asserted directly below.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from envoy.config.listener.v3 import listener_components_pb2  # noqa: F401 (HttpFilter's package)
from envoy.extensions.filters.network.http_connection_manager.v3 import http_connection_manager_pb2
from google.protobuf import descriptor_pb2, json_format

from tests.deploy.deploy_files import (
    DESCRIPTOR_SET,
    KUBERNETES,
    crd_schemas,
    deploy_name,
    documents_of_kind,
    import_envoy_types,
    kubernetes_documents,
    kubernetes_files,
    proto_services,
    sample_path,
)
from tsforge.core.config import SERVICE_PORTS
from tsforge.core.secrets import SecretError, check_secret

KUBERNETES_VERSION = kubernetes_validate.latest_version()
CRD_GROUPS = ("gateway.networking.k8s.io/", "gateway.envoyproxy.io/")
NAMESPACE = "tsforge"
SERVICES = sorted(proto_services())


def document_id(item: tuple[Path, int, dict]) -> str:
    path, index, doc = item
    return f"{path.name}#{index}:{doc['kind']}/{doc['metadata']['name']}"


DOCUMENTS = list(kubernetes_documents())


@pytest.mark.parametrize("item", DOCUMENTS, ids=[document_id(d) for d in DOCUMENTS])
def test_manifest_matches_its_schema(item: tuple[Path, int, dict]) -> None:
    _, _, doc = item
    if doc["apiVersion"].startswith(CRD_GROUPS):
        schema = crd_schemas().get((doc["apiVersion"], doc["kind"]))
        assert schema is not None, f"no served CRD for {doc['apiVersion']} {doc['kind']}"
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: e.json_path)
        assert not errors, "\n".join(f"{e.json_path}: {e.message[:300]}" for e in errors)
    else:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"Kubernetes {KUBERNETES_VERSION}, {'/'.join(map(str, error.path))}: {error.message}")


def test_schema_checks_reject_unknown_fields() -> None:
    (route,) = [d for d in documents_of_kind("GRPCRoute") if d["metadata"]["name"] == "upload"]
    route = json.loads(json.dumps(route))
    route["spec"]["rules"][0]["timeouts"] = {"request": "0s"}  # GRPCRoute has no such field
    schema = crd_schemas()[("gateway.networking.k8s.io/v1", "GRPCRoute")]
    assert not jsonschema.Draft7Validator(schema).is_valid(route)
    (deployment,) = [d for d in documents_of_kind("Deployment") if d["metadata"]["name"] == "upload"]
    deployment = json.loads(json.dumps(deployment))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["sevice"] = "x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    # Envoy Gateway's own configuration belongs to its install, in its namespace.
    expected = sorted(p.name for p in kubernetes_files() if p.name != "envoy-gateway-config.yaml")
    assert sorted(kustomization["resources"]) == expected


def test_namespaced_resources_are_in_the_tsforge_namespace() -> None:
    for path, _, doc in DOCUMENTS:
        if doc["kind"] in ("Namespace", "GatewayClass") or path.name == "envoy-gateway-config.yaml":
            continue
        assert doc["metadata"].get("namespace") == NAMESPACE, f"{path.name}: {doc['kind']}/{doc['metadata']['name']}"


@pytest.mark.parametrize("service", SERVICES)
def test_a_deployment_and_h2c_service_per_service(service: str) -> None:
    name, port = deploy_name(service), SERVICE_PORTS[deploy_name(service)]
    (deployment,) = [d for d in documents_of_kind("Deployment") if d["metadata"]["name"] == name]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"][:4] == ["tsforge", "up", "--only", name]
    assert container["readinessProbe"]["grpc"] == {"port": port, "service": service}
    assert container["livenessProbe"]["grpc"]["port"] == port
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert {"configMapRef", "secretRef"} <= {key for ref in container["envFrom"] for key in ref}
    (svc,) = [d for d in documents_of_kind("Service") if d["metadata"]["name"] == name]
    (svc_port,) = svc["spec"]["ports"]
    assert svc_port["port"] == port and svc_port["appProtocol"] == "kubernetes.io/h2c"


@pytest.mark.parametrize("service", SERVICES)
def test_a_grpc_route_per_service_with_reflection_and_health(service: str) -> None:
    name = deploy_name(service)
    routes = [d for d in documents_of_kind("GRPCRoute") if d["metadata"]["name"] == name]
    assert len(routes) == 1, f"expected one GRPCRoute named {name}"
    matched: dict[str, set[str]] = {}
    for rule in routes[0]["spec"]["rules"]:
        assert rule["backendRefs"] == [{"name": name, "port": SERVICE_PORTS[name]}]
        for match in rule["matches"]:
            headers = {h["name"]: h["value"] for h in match.get("headers", [])}
            matched.setdefault(match["method"]["service"], set()).add(headers.get("tsforge-service", "*"))
    assert matched.get(service) == {"*"}, f"{service} must be routed for every caller"
    for open_service in (
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.health.v1.Health",
    ):
        assert matched.get(open_service) == {name}, open_service


def test_rest_route_sends_every_http_binding_to_its_service() -> None:
    (route,) = documents_of_kind("HTTPRoute")
    for service, rpcs in proto_services().items():
        for rpc in rpcs:
            for template in rpc.http_paths:
                path = sample_path(template)
                backends = [
                    rule["backendRefs"][0]["name"]
                    for rule in route["spec"]["rules"]
                    for match in rule["matches"]
                    if re.fullmatch(match["path"]["value"], path)
                ]
                assert backends[:1] == [deploy_name(service)], f"{template} ({rpc.grpc_path})"


def test_streams_are_not_cut_by_the_default_route_timeout() -> None:
    (policy,) = documents_of_kind("BackendTrafficPolicy")
    (gateway,) = documents_of_kind("Gateway")
    assert {"kind": "Gateway", "name": gateway["metadata"]["name"]}.items() <= policy["spec"]["targetRefs"][0].items()
    assert policy["spec"]["timeout"]["http"]["requestTimeout"] == "0s"
    assert policy["spec"]["timeout"]["http"]["maxStreamDuration"] == "0s"


def test_security_policy_cors_and_jwt_key_match_the_secret() -> None:
    (policy,) = documents_of_kind("SecurityPolicy")
    assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= set(policy["spec"]["cors"]["exposeHeaders"])
    (provider,) = policy["spec"]["jwt"]["providers"]
    ref = provider["localJWKS"]["valueRef"]
    (jwks_map,) = [d for d in documents_of_kind("ConfigMap") if d["metadata"]["name"] == ref["name"]]
    (key,) = json.loads(jwks_map["data"]["jwks"])["keys"]
    secret = next(d for d in documents_of_kind("Secret") if d["metadata"]["name"] == "tsforge-secrets")
    jwt_secret = secret["stringData"]["TSFORGE_JWT_SECRET"]
    with pytest.raises(SecretError):  # a placeholder: the services refuse to start with it
        check_secret(jwt_secret)
    assert key["kty"] == "oct" and key["alg"] == "HS256"
    assert base64.urlsafe_b64decode(key["k"] + "=" * (-len(key["k"]) % 4)).decode() == jwt_secret


def test_bundled_database_and_object_store_credentials_agree() -> None:
    secrets = {d["metadata"]["name"]: d["stringData"] for d in documents_of_kind("Secret")}
    app, postgres, minio = secrets["tsforge-secrets"], secrets["postgres-credentials"], secrets["minio-credentials"]
    assert app["TSFORGE_DATABASE_URL"] == (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert (app["TSFORGE_S3_ACCESS_KEY"], app["TSFORGE_S3_SECRET_KEY"]) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )


def test_patch_policy_adds_a_valid_transcoder_to_the_gateway_listener() -> None:
    (policy,) = documents_of_kind("EnvoyPatchPolicy")
    (gateway,) = documents_of_kind("Gateway")
    (listener,) = gateway["spec"]["listeners"]
    (patch,) = policy["spec"]["jsonPatches"]
    meta = gateway["metadata"]
    assert patch["name"] == f"{meta['namespace']}/{meta['name']}/{listener['name']}"
    assert policy["spec"]["targetRef"]["name"] == meta["name"]
    value = patch["operation"]["value"]
    import_envoy_types(value)
    http_filter = json_format.ParseDict(value, http_connection_manager_pb2.HttpFilter(), ignore_unknown_fields=False)
    assert http_filter.name == "envoy.filters.http.grpc_json_transcoder"
    transcoder = value["typed_config"]
    assert sorted(transcoder["services"]) == SERVICES
    inlined = base64.b64decode(transcoder["proto_descriptor_bin"])
    assert inlined == DESCRIPTOR_SET.read_bytes(), "run `make edge-config`"
    descriptor_pb2.FileDescriptorSet.FromString(inlined)


def test_envoy_gateway_enables_patch_policies_for_our_gateway_class() -> None:
    (config_map,) = [d for d in documents_of_kind("ConfigMap") if d["metadata"]["name"] == "envoy-gateway-config"]
    config = yaml.safe_load(config_map["data"]["envoy-gateway.yaml"])
    assert config["kind"] == "EnvoyGateway"
    assert config["extensionApis"]["enableEnvoyPatchPolicy"] is True
    (gateway_class,) = documents_of_kind("GatewayClass")
    assert config["gateway"]["controllerName"] == gateway_class["spec"]["controllerName"]
    assert all(g["spec"]["gatewayClassName"] == gateway_class["metadata"]["name"] for g in documents_of_kind("Gateway"))


def test_training_workers_scale_horizontally() -> None:
    (hpa,) = documents_of_kind("HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    (worker,) = [d for d in documents_of_kind("Deployment") if d["metadata"]["name"] == target["name"]]
    assert target["kind"] == "Deployment" and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert worker["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]
