"""Every RPC of every service, with every kind of bad token, is UNAUTHENTICATED, also
when the body is garbage (authentication comes before parsing); with a good token,
garbage bytes are INVALID_ARGUMENT, with a JWT or an API key alike."""

from __future__ import annotations

import base64
import json
import time

import grpc
import jwt
import pytest

from tests.plugin import JWT_SECRET
from tests.security.descriptors import all_rpcs
from tsforge.core.auth import issue_token

RPCS = all_rpcs()
GARBAGE = b"\xff\xff\xff\xff\x0f" + bytes(range(256))


def _token(claims: dict, secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _unsigned(claims: dict) -> str:
    """A JWT with "alg": "none" and no signature."""

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _authorizations(revoked_key: str) -> dict[str, str | None]:
    now = int(time.time())
    return {
        "API key, malformed": "Bearer tsf_0123_abc",
        "API key, unknown": "Bearer tsf_" + "0" * 16 + "_" + "0" * 64,
        "API key, wrong secret": "Bearer " + revoked_key[:-64] + "0" * 64,
        "API key, revoked": "Bearer " + revoked_key,
        "missing": None,
        "empty": "",
        "no scheme": issue_token(JWT_SECRET, "tenant-a"),
        "basic": "Basic dXNlcjpwYXNz",
        "bearer without token": "Bearer ",
        "not a JWT": "Bearer not-a-token",
        "expired": "Bearer " + issue_token(JWT_SECRET, "tenant-a", ttl_seconds=-60),
        "wrong secret": "Bearer " + issue_token("another-secret-that-is-long-enough-0123456789", "tenant-a"),
        "alg none": "Bearer " + _unsigned({"sub": "tenant-a", "exp": now + 600}),
        "no expiry": "Bearer " + _token({"sub": "tenant-a"}),
        "subject with newline": "Bearer " + _token({"sub": "tenant-a\n", "exp": now + 600}),
        "subject not text": "Bearer " + _token({"sub": 42, "exp": now + 600}),
        "subject with NUL": "Bearer " + _token({"sub": "a\x00b", "exp": now + 600}),
    }


@pytest.mark.parametrize("rpc", RPCS, ids=lambda r: r.name)
def test_every_rpc_refuses_every_bad_token_before_reading_the_body(secured, rpc):
    for kind, authorization in _authorizations(secured.revoked_key).items():
        metadata = () if authorization is None else (("authorization", authorization),)
        for body in (rpc.request_class().SerializeToString(), GARBAGE):
            outcome = secured.caller.call(rpc, body, metadata, timeout=10)
            assert outcome.code == grpc.StatusCode.UNAUTHENTICATED, (kind, body[:4], str(outcome))
            assert outcome.seconds < 5, (kind, str(outcome))
            assert "eyJ" not in outcome.message  # a token is never echoed
            assert secured.revoked_key[-64:] not in outcome.message


@pytest.mark.parametrize("rpc", RPCS, ids=lambda r: r.name)
def test_garbage_bytes_from_a_tenant_are_invalid_argument(secured, prober, rpc):
    outcome = secured.caller.call(rpc, GARBAGE, prober.metadata, timeout=10)
    assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT, str(outcome)
    assert "request" in outcome.violations, outcome.violations


@pytest.mark.parametrize("rpc", RPCS, ids=lambda r: r.name)
def test_an_api_key_is_accepted_by_every_rpc_of_every_service(secured, rpc):
    outcome = secured.caller.call(rpc, GARBAGE, (("authorization", f"Bearer {secured.api_key}"),), timeout=10)
    assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT, str(outcome)  # past authentication
