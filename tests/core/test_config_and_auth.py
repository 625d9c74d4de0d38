"""Configuration is validated at start-up; tokens carry the tenant."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest

from tsforge.core.auth import issue_token, tenant_from_authorization
from tsforge.core.config import ConfigError, load_config
from tsforge.core.errors import Unauthenticated


def test_defaults_need_nothing_set():
    config = load_config({"TSFORGE_DATA_DIR": "/tmp/x"})
    assert config.database_url is None and config.s3 is None
    assert dict(config.ports) == {"upload": 50051, "training": 50052, "evaluation": 50053, "models": 50054}
    assert config.addresses["upload"] == "127.0.0.1:50051"


def test_s3_and_database_settings_switch_modes():
    config = load_config(
        {
            "TSFORGE_DATABASE_URL": "postgresql://u@db:5432/t",
            "TSFORGE_S3_ENDPOINT": "minio:9000",
            "TSFORGE_S3_ACCESS_KEY": "a",
            "TSFORGE_S3_SECRET_KEY": "b",
            "TSFORGE_S3_SECURE": "true",
            "TSFORGE_JWT_SECRET": secrets.token_urlsafe(32),
        }
    )
    assert config.database_url == "postgresql://u@db:5432/t"
    assert (config.s3.endpoint, config.s3.bucket, config.s3.secure) == ("minio:9000", "tsforge", True)


def test_every_bad_value_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        load_config(
            {
                "TSFORGE_UPLOAD_PORT": "http",
                "TSFORGE_TRAINING_PORT": "70000",
                "TSFORGE_S3_ENDPOINT": "https://minio:9000",
                "TSFORGE_S3_SECURE": "maybe",
                "TSFORGE_DATABASE_URL": "mysql://x",
                "TSFORGE_TENANT_QUOTA_BYTES": "-1",
                "TSFORGE_JWT_SECRET": "short",
            }
        )
    message = str(caught.value)
    for name in (
        "TSFORGE_UPLOAD_PORT",
        "TSFORGE_TRAINING_PORT",
        "TSFORGE_S3_ACCESS_KEY",
        "TSFORGE_S3_SECURE",
        "must be host:port",
        "TSFORGE_DATABASE_URL",
        "TSFORGE_TENANT_QUOTA_BYTES",
        "TSFORGE_JWT_SECRET",
    ):
        assert name in message


SECRET = secrets.token_urlsafe(32)


def test_tokens_round_trip_and_bad_ones_are_unauthenticated():
    token = issue_token(SECRET, "acme")
    assert tenant_from_authorization(SECRET, f"Bearer {token}") == "acme"
    expired = jwt.encode({"sub": "acme", "exp": int(time.time()) - 10}, SECRET, algorithm="HS256")
    no_expiry = jwt.encode({"sub": "acme"}, SECRET, algorithm="HS256")
    for header in (
        None,
        "",
        token,
        f"Bearer {token[:-2]}",
        f"Bearer {issue_token(SECRET + 'x', 'acme')}",
        f"Bearer {expired}",
        f"Bearer {no_expiry}",
    ):
        with pytest.raises(Unauthenticated):
            tenant_from_authorization(SECRET, header)
    with pytest.raises(ValueError):
        issue_token(SECRET, "../etc")
