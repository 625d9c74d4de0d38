"""Every Envoy configuration tsforge runs, from one source: the protos' services and
google.api.http bindings, plus where the upstreams are (an EdgeLayout).

- `bootstrap(layout, services)`: a whole bootstrap. gateway/edge.py renders the local one
  `tsforge up` runs (loopback upstreams and ports from tsforge's settings, descriptor set
  inlined); gateway/render.py the committed deploy/envoy/envoy.yaml (compose host names).
- `transcoder_patch_policy`: deploy/kubernetes' EnvoyPatchPolicy, the same transcoder
  filter for the listener Envoy Gateway generates.

One listener serves gRPC, grpc-web (binary and text) and REST/JSON: the grpc_web filter
turns grpc-web into gRPC, the transcoder turns REST into gRPC (and rewrites the path),
then every call is routed by its gRPC path. Routes, first match wins: /healthz; a
malformed grpc-timeout (400); each service's gRPC prefix; reflection and health picked
by the `tsforge-service` header; any other gRPC or grpc-web call (UNIMPLEMENTED); then
everything else, REST paths the transcoder did not take included, goes to the console's
static file server, which answers those as the API would (404 or 405, google.rpc.Status
JSON). It must be a cluster, not a direct response: Envoy's CORS filter skips direct
responses. Errors Envoy answers itself to REST and console requests become
google.rpc.Status JSON with the HTTP status of their code (local_reply_config).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.descriptors import Service

# @type URLs, spelled once.
_T = "type.googleapis.com/envoy."
HCM = _T + "extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
GRPC_WEB = _T + "extensions.filters.http.grpc_web.v3.GrpcWeb"
CORS = _T + "extensions.filters.http.cors.v3.Cors"
CORS_POLICY = _T + "extensions.filters.http.cors.v3.CorsPolicy"
TRANSCODER = _T + "extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"
ROUTER = _T + "extensions.filters.http.router.v3.Router"
STDOUT_LOG = _T + "extensions.access_loggers.stream.v3.StdoutAccessLog"
UUID_REQUEST_ID = _T + "extensions.request_id.uuid.v3.UuidRequestIdConfig"
HTTP_OPTIONS = _T + "extensions.upstreams.http.v3.HttpProtocolOptions"
DOWNSTREAM_CONNECTIONS = _T + "extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig"
HTTP_OPTIONS_KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
TRANSCODER_NAME = "envoy.filters.http.grpc_json_transcoder"

GRPC_TIMEOUT = "[0-9]{1,8}[HMSmun]"
SERVICE_HEADER = "tsforge-service"  # picks the server for reflection and health
CONSOLE_CLUSTER = "console"
OPEN_SERVICES = ("/grpc.reflection.", "/grpc.health.v1.Health/")
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "authorization, content-type, grpc-timeout, x-grpc-web, x-user-agent, x-request-id, " + SERVICE_HEADER
EXPOSE_HEADERS = "grpc-status, grpc-message, grpc-status-details-bin, x-request-id"
# google/rpc/code.proto's HTTP mapping, for the errors Envoy answers itself.
HTTP_TO_GRPC_CODE = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 10, 413: 8, 429: 8, 499: 1}
HTTP_TO_GRPC_CODE.update({500: 13, 501: 12, 502: 14, 503: 14, 504: 4})
# The access log: no header but the request id, so no token is ever written.
ACCESS_LOG_FORMAT = {
    "time": "%START_TIME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "route": "%REQ(:PATH)%",
    "status": "%RESPONSE_CODE%",
    "grpc_status": "%GRPC_STATUS_NUMBER%",
    "flags": "%RESPONSE_FLAGS%",
    "duration_ms": "%DURATION%",
    "upstream": "%UPSTREAM_CLUSTER%",
    "request_id": "%REQ(X-REQUEST-ID)%",
}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @classmethod
    def parse(cls, address: str) -> Endpoint:
        """From "host:port" (IPv6 in brackets). Raises ValueError for anything else."""
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"{address!r} is not host:port")
        return cls(host.strip("[]"), int(port))

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class EdgeLayout:
    """Where the edge listens, where every upstream is, and what browsers may do."""

    listen: Endpoint
    admin: Endpoint | None  # None: no admin interface
    upstreams: Mapping[str, Endpoint]  # service key ("upload") -> its server
    console: Endpoint | None  # the static file server for every non-API path
    cors_exact: tuple[str, ...] = ()  # origins, "*" for any
    cors_prefixes: tuple[str, ...] = ()
    max_message_bytes: int = 8 << 20
    health_checks: bool = False  # gRPC health checks on the upstreams (many replicas)
    access_log: bool = True
    descriptor_path: str | None = None  # the transcoder reads this file ...
    descriptor_bin: bytes | None = field(default=None, repr=False)  # ... or this, inlined


# --- the pieces ---------------------------------------------------------------------


def transcoder_config(layout: EdgeLayout, services: Sequence[Service]) -> dict:
    """The grpc_json_transcoder's typed_config (the same in every edge but for the descriptor)."""
    config: dict = {"@type": TRANSCODER}
    if layout.descriptor_bin is not None:
        config["proto_descriptor_bin"] = base64.b64encode(layout.descriptor_bin).decode("ascii")
    else:
        config["proto_descriptor"] = layout.descriptor_path
    config.update(
        {
            "services": [s.full_name for s in services],
            "print_options": {
                "add_whitespace": False,
                "always_print_primitive_fields": True,
                "always_print_enums_as_ints": False,
                "preserve_proto_field_names": False,
                # Server streams as one JSON object per line, each flushed as it comes.
                "stream_newline_delimited": True,
            },
            # Errors as google.rpc.Status JSON with the HTTP status of the gRPC code.
            "convert_grpc_status": True,
            "request_validation_options": {
                # Unknown paths pass through: gRPC, grpc-web, preflights and the console share the port.
                "reject_unknown_method": False,
                "reject_unknown_query_parameters": True,
                "reject_binding_body_field_collisions": True,
            },
            "case_insensitive_enum_parsing": True,
            # JSON carries bytes as base64 (4/3 larger) plus names: room for a full gRPC message.
            "max_request_body_size": 2 * layout.max_message_bytes,
            "max_response_body_size": 2 * layout.max_message_bytes,
        }
    )
    return config


def _direct(status: int, body: str, content_type: str = "text/plain", headers: Sequence = ()) -> dict:
    # local_reply_config turns an error's text into google.rpc.Status JSON.
    return {
        "direct_response": {"status": status, "body": {"inline_string": body}},
        "response_headers_to_add": [
            {"header": {"key": "content-type", "value": content_type}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"},
            *({"header": {"key": k, "value": v}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"} for k, v in headers),
        ],
    }


def routes(layout: EdgeLayout, services: Sequence[Service]) -> list[dict]:
    """The virtual host's routes, first match wins (see the module docstring)."""
    # No route timeout: every service has server streams; a client's grpc-timeout still bounds a call.
    action = {
        s.key: {"cluster": s.key, "timeout": "0s", "max_stream_duration": {"grpc_timeout_header_max": "0s"}}
        for s in services
    }
    bad_timeout = {
        "name": "grpc-timeout",
        "string_match": {"safe_regex": {"regex": GRPC_TIMEOUT}},
        "invert_match": True,
    }
    table: list[dict] = [
        {"match": {"path": "/healthz"}, **_direct(200, "ok\n", "text/plain")},
        # Envoy passes a malformed grpc-timeout on, and the service would answer INTERNAL.
        {
            "match": {"prefix": "/", "headers": [bad_timeout]},
            **_direct(400, "grpc-timeout is not <1-8 digits><H|M|S|m|u|n>"),
        },
    ]
    table += [{"match": {"prefix": f"/{s.full_name}/"}, "route": action[s.key]} for s in services]
    for service in services:
        for prefix in OPEN_SERVICES:
            header = {"name": SERVICE_HEADER, "string_match": {"exact": service.key}}
            table.append({"match": {"prefix": prefix, "headers": [header]}, "route": action[service.key]})
    unknown = "no such gRPC service here (reflection and health: pick the server with the tsforge-service header)"
    # A trailers-only gRPC answer: UNIMPLEMENTED, as a server says for a service it lacks.
    table.append(
        {
            # gRPC and grpc-web alike (the route is chosen before grpc_web rewrites the type).
            "match": {
                "prefix": "/",
                "headers": [{"name": "content-type", "string_match": {"prefix": "application/grpc"}}],
            },
            **_direct(200, "", "application/grpc", headers=[("grpc-status", "12"), ("grpc-message", unknown)]),
        }
    )
    # A REST call the transcoder took was rewritten to its gRPC path above: what is left
    # goes to the console server (a cluster, so CORS applies to its answers too).
    if layout.console is not None:
        table.append({"match": {"prefix": "/"}, "route": {"cluster": CONSOLE_CLUSTER}})
    else:
        table.append({"match": {"prefix": "/"}, **_direct(404, "no route for this path")})
    return table


def cors_policy(layout: EdgeLayout) -> dict | None:
    matchers = [{"safe_regex": {"regex": ".*"}} if o == "*" else {"exact": o} for o in layout.cors_exact]
    matchers += [{"prefix": p} for p in layout.cors_prefixes]
    if not matchers:
        return None  # same origin only
    return {
        "@type": CORS_POLICY,
        "allow_origin_string_match": matchers,
        "allow_methods": ALLOW_METHODS,
        "allow_headers": ALLOW_HEADERS,
        "expose_headers": EXPOSE_HEADERS,
        "max_age": "600",
        # A preflight from an origin not allowed is answered here, not sent to a route.
        "forward_not_matching_preflights": False,
    }


def local_reply_config() -> dict:
    """Errors Envoy itself answers to REST and console requests as google.rpc.Status JSON.

    gRPC and grpc-web requests (content-type application/grpc* by then) keep Envoy's own
    gRPC replies: grpc-status and grpc-message in trailers.
    """
    # A REST call the transcoder took is application/grpc by now, but has its original path kept.
    not_grpc = {
        "or_filter": {
            "filters": [
                {
                    "header_filter": {
                        "header": {
                            "name": "content-type",
                            "string_match": {"prefix": "application/grpc"},
                            "invert_match": True,
                            "treat_missing_header_as_empty": True,
                        }
                    }
                },
                {"header_filter": {"header": {"name": "x-envoy-original-path", "present_match": True}}},
            ]
        }
    }

    def mapper(comparison: dict, code: int) -> dict:
        return {
            "filter": {"and_filter": {"filters": [{"status_code_filter": {"comparison": comparison}}, not_grpc]}},
            "body_format_override": {
                "json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%", "details": []},
                "content_type": "application/json",
            },
        }

    def value(status: int) -> dict:
        return {"default_value": status, "runtime_key": "tsforge.local_reply_unused"}

    mappers = [mapper({"op": "EQ", "value": value(s)}, c) for s, c in sorted(HTTP_TO_GRPC_CODE.items())]
    mappers.append(mapper({"op": "GE", "value": value(400)}, 2))  # UNKNOWN
    return {"mappers": mappers}


def connection_manager(layout: EdgeLayout, services: Sequence[Service]) -> dict:
    virtual_host: dict = {"name": "tsforge", "domains": ["*"], "routes": routes(layout, services)}
    policy = cors_policy(layout)
    if policy is not None:
        virtual_host["typed_per_filter_config"] = {"envoy.filters.http.cors": policy}
    manager: dict = {
        "@type": HCM,
        "stat_prefix": "tsforge",
        "codec_type": "AUTO",
        # Watch streams can be quiet between epochs; an hour without a byte ends them.
        "stream_idle_timeout": "3600s",
        # HTTP/1.1 clients get a REST stream's final grpc-status as chunked trailers.
        "http_protocol_options": {"enable_trailers": True},
        "request_id_extension": {"typed_config": {"@type": UUID_REQUEST_ID}},
        # A client's x-request-id reaches the service and comes back in the response.
        "preserve_external_request_id": True,
        "always_set_request_id_in_response": True,
        "local_reply_config": local_reply_config(),
        "route_config": {"name": "tsforge", "virtual_hosts": [virtual_host]},
        "http_filters": [
            {"name": "envoy.filters.http.grpc_web", "typed_config": {"@type": GRPC_WEB}},
            {"name": "envoy.filters.http.cors", "typed_config": {"@type": CORS}},
            {"name": TRANSCODER_NAME, "typed_config": transcoder_config(layout, services)},
            {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}},
        ],
    }
    if layout.access_log:
        manager["access_log"] = [
            {
                "name": "envoy.access_loggers.stdout",
                "typed_config": {"@type": STDOUT_LOG, "log_format": {"json_format": ACCESS_LOG_FORMAT}},
            }
        ]
    return manager


def _cluster(name: str, endpoint: Endpoint, http2: bool, health_check_service: str | None) -> dict:
    cluster: dict = {
        "name": name,
        "type": "STATIC" if endpoint.is_ip else "STRICT_DNS",
        "connect_timeout": "2s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {"socket_address": {"address": endpoint.host, "port_value": endpoint.port}}
                            }
                        }
                    ]
                }
            ],
        },
    }
    if not endpoint.is_ip:
        cluster["dns_lookup_family"] = "V4_PREFERRED"
    if http2:
        cluster["typed_extension_protocol_options"] = {
            HTTP_OPTIONS_KEY: {"@type": HTTP_OPTIONS, "explicit_http_config": {"http2_protocol_options": {}}}
        }
    if health_check_service:
        cluster["health_checks"] = [
            {
                "timeout": "2s",
                "interval": "5s",
                "unhealthy_threshold": 3,
                "healthy_threshold": 1,
                "grpc_health_check": {"service_name": health_check_service},
            }
        ]
    return cluster


def bootstrap(layout: EdgeLayout, services: Sequence[Service]) -> dict:
    """A whole Envoy bootstrap for `layout`.

    Raises KeyError when a service has no upstream in the layout.
    """
    listen = layout.listen
    config: dict = {}
    if layout.admin is not None:
        config["admin"] = {
            "address": {"socket_address": {"address": layout.admin.host, "port_value": layout.admin.port}}
        }
    clusters = [
        _cluster(s.key, layout.upstreams[s.key], True, s.full_name if layout.health_checks else None) for s in services
    ]
    if layout.console is not None:
        clusters.append(_cluster(CONSOLE_CLUSTER, layout.console, False, None))
    # A bound on open connections (browsers hold one per stream), which Envoy asks for.
    config["overload_manager"] = {
        "resource_monitors": [
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {"@type": DOWNSTREAM_CONNECTIONS, "max_active_downstream_connections": 50_000},
            }
        ]
    }
    config["static_resources"] = {
        "listeners": [
            {
                "name": "tsforge",
                "address": {"socket_address": {"address": listen.host, "port_value": listen.port}},
                "filter_chains": [
                    {
                        "filters": [
                            {
                                "name": "envoy.filters.network.http_connection_manager",
                                "typed_config": connection_manager(layout, services),
                            }
                        ]
                    }
                ],
            }
        ],
        "clusters": clusters,
    }
    return config


def transcoder_patch_policy(descriptor_bin: bytes, services: Sequence[Service], max_message_bytes: int) -> dict:
    """The EnvoyPatchPolicy adding the transcoder first to Envoy Gateway's listener.

    Envoy Gateway names a listener "<namespace>/<gateway>/<listener>": these match
    deploy/kubernetes/gateway.yaml. The descriptor set is inlined: Envoy Gateway's
    proxies have no file of ours to read.
    """
    namespace, gateway, listener = "tsforge", "tsforge", "http"
    layout = EdgeLayout(
        listen=Endpoint("0.0.0.0", 80),
        admin=None,
        upstreams={},
        console=None,
        max_message_bytes=max_message_bytes,
        descriptor_bin=descriptor_bin,
    )
    typed_config = transcoder_config(layout, services)
    # The descriptor last: the settings stay readable at the top of the file.
    typed_config["proto_descriptor_bin"] = typed_config.pop("proto_descriptor_bin")
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "EnvoyPatchPolicy",
        "metadata": {"name": "grpc-json-transcoder", "namespace": namespace},
        "spec": {
            "targetRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway},
            "type": "JSONPatch",
            "jsonPatches": [
                {
                    "type": "type.googleapis.com/envoy.config.listener.v3.Listener",
                    "name": f"{namespace}/{gateway}/{listener}",
                    "operation": {
                        "op": "add",
                        "path": "/default_filter_chain/filters/0/typed_config/http_filters/0",
                        "value": {"name": TRANSCODER_NAME, "typed_config": typed_config},
                    },
                }
            ],
        },
    }
