"""No published secret signs tokens, embedded installs each have their own, tenants are
matched in full, and no token or secret reaches a log line."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import secrets
import stat
import subprocess
from pathlib import Path

import pytest

from tsforge.core.auth import issue_token, tenant_from_authorization
from tsforge.core.config import ConfigError, load_config
from tsforge.core.errors import Unauthenticated
from tsforge.core.logs import configure_logging

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = secrets.token_urlsafe(32)  # made per run: a literal here would be a published secret
# Any *SECRET: value (YAML, env files, shell) or *SECRET = "value" (Python: quoted only, so
# code such as `jwt_secret=arguments.jwt_secret` is not taken for a value).
_ASSIGNED = re.compile(r"""(?:\b|_)SECRET["']?\s*[:=]\s*(["']?)([^\s"'${}()]+)\1""")


def published_secret_values() -> set[str]:
    """Every literal secret written in a tracked file, and the keys in JWKS documents."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    values: set[str] = set()
    for name in files:
        path = ROOT / name
        if path.suffix in (".pb", ".png", ".csv") or "/v1/" in name or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        values.update(
            m.group(2)
            for m in _ASSIGNED.finditer(text)
            if len(m.group(2)) >= 8 and (m.group(1) or path.suffix != ".py")
        )
        for k in re.findall(r'"k":\s*"([A-Za-z0-9_-]+)"', text):
            values.add(base64.urlsafe_b64decode(k + "=" * (-len(k) % 4)).decode())
    return values


def test_every_secret_written_in_the_repository_is_refused() -> None:
    values = published_secret_values()
    # The deploy placeholder and its JWKS copy are among them: the scan itself works.
    assert any("REPLACE" in value for value in values), values
    for value in values:
        for env in (
            {"TSFORGE_JWT_SECRET": value},
            {"TSFORGE_JWT_SECRET": value, "TSFORGE_DATABASE_URL": "postgresql://db/t"},
        ):
            with pytest.raises(ConfigError, match="TSFORGE_JWT_SECRET"):
                load_config(env)


def test_the_old_built_in_secret_and_the_old_test_secrets_are_refused() -> None:
    for value in (
        "tsforge-local-development-secret-change-me",
        "test-secret-that-is-long-enough-for-hs256",
        "bench-secret-that-is-long-enough-for-hs256",
        "change-me-to-32-or-more-random-bytes",
    ):
        with pytest.raises(ConfigError, match="published or placeholder"):
            load_config({"TSFORGE_JWT_SECRET": value})


def test_configured_servers_need_a_secret_of_their_own(tmp_path: Path) -> None:
    s3 = {"TSFORGE_S3_ENDPOINT": "minio:9000", "TSFORGE_S3_ACCESS_KEY": "a", "TSFORGE_S3_SECRET_KEY": "b"}
    for env in ({"TSFORGE_DATABASE_URL": "postgresql://u@db:5432/t"}, s3):
        config = load_config({"TSFORGE_DATA_DIR": str(tmp_path), **env})  # commands that sign nothing work
        with pytest.raises(ConfigError, match="TSFORGE_JWT_SECRET must be set"):
            config.jwt_secret  # noqa: B018 (what every server and worker reads at start-up)
        assert load_config({"TSFORGE_JWT_SECRET": GOOD_SECRET, **env}).jwt_secret == GOOD_SECRET
    assert not (tmp_path / "jwt-secret").exists()


def test_tsforge_up_refuses_to_start_on_a_configured_database_without_a_secret(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TSFORGE_DATA_DIR": str(tmp_path),
        "TSFORGE_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
    }
    for command in (["up"], ["worker", "training"]):
        done = subprocess.run(
            [str(ROOT / ".venv/bin/tsforge"), *command], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0 and "TSFORGE_JWT_SECRET must be set" in done.stderr, done.stderr


def test_each_embedded_install_has_its_own_secret(tmp_path: Path) -> None:
    one = load_config({"TSFORGE_DATA_DIR": str(tmp_path / "one")})
    two = load_config({"TSFORGE_DATA_DIR": str(tmp_path / "two")})
    assert one.jwt_secret != two.jwt_secret and len(one.jwt_secret) >= 32
    secret_file = tmp_path / "one" / "jwt-secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    # Every process of the same install reads the same secret.
    assert load_config({"TSFORGE_DATA_DIR": str(tmp_path / "one")}).jwt_secret == one.jwt_secret
    token = issue_token(one.jwt_secret, "acme")
    assert tenant_from_authorization(one.jwt_secret, f"Bearer {token}") == "acme"
    with pytest.raises(Unauthenticated):
        tenant_from_authorization(two.jwt_secret, f"Bearer {token}")
    assert one.jwt_secret not in repr(one)


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    config = load_config({"TSFORGE_DATA_DIR": str(tmp_path)})
    config.jwt_secret  # noqa: B018 (creates it)
    (tmp_path / "jwt-secret").chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config({"TSFORGE_DATA_DIR": str(tmp_path)}).jwt_secret  # noqa: B018


@pytest.mark.parametrize("tenant", ["acme\n", "acme\r", " acme", "ac me", "acme/x", "ａcme", "-acme", "a" * 64])
def test_tenants_are_matched_in_full(tenant: str) -> None:
    with pytest.raises(ValueError):
        issue_token(GOOD_SECRET, tenant)
    import jwt

    forged = jwt.encode({"sub": tenant, "exp": 2**40}, GOOD_SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        tenant_from_authorization(GOOD_SECRET, f"Bearer {forged}")


def test_tsforge_token_refuses_a_tenant_with_a_trailing_newline(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TSFORGE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [str(ROOT / ".venv/bin/tsforge"), "token", "--tenant", "acme\n"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "tenant must be" in done.stderr
    assert done.stdout == ""


@pytest.fixture
def restored_logging():
    """Whatever a test configures, the root logger is as before afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


@pytest.mark.parametrize("json_lines", [True, False])
def test_no_token_or_secret_reaches_a_log_line(restored_logging, json_lines: bool) -> None:
    s3_key, db_password = "s3-secret-key-value-1234", "db-password-5678"
    configure_logging("INFO", json_lines, [GOOD_SECRET, s3_key, db_password])
    log_output = io.StringIO()
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(log_output)  # configured as main does, written into a buffer
    token = issue_token(GOOD_SECRET, "acme")
    log = logging.getLogger("tests.secrets")
    log.info("request headers: {'authorization': 'Bearer %s'}", token)
    log.warning("raw request b'GET / HTTP/1.1\\r\\nAuthorization: bearer %s\\r\\n'", token[:-3])
    log.error("connecting to postgresql://u:%s@db/t with key %s signed by %s", db_password, s3_key, GOOD_SECRET)
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        log.exception("failed")
    text = log_output.getvalue()
    for leaked in (token, token[:-3], token.split(".")[1], GOOD_SECRET, s3_key, db_password):
        assert leaked not in text
    assert text.count("[redacted]") >= 6
    if json_lines:
        assert all(json.loads(line)["logger"] == "tests.secrets" for line in text.splitlines() if line.startswith("{"))
