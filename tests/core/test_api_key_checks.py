"""The API key verifier every server uses: what it keeps, for how long, and what it
refuses without asking anyone (no database, no server: a fake check and clock)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import pytest

from tsforge.core.api_keys import KeyCheck
from tsforge.core.auth import ApiKeyVerifier, Authenticator, Caller, issue_token
from tsforge.core.errors import Unauthenticated, Unavailable
from tsforge.core.logs import Redactor
from tsforge.core.timestamps import utc_now

KEY = "tsf_" + "0123456789abcdef" + "_" + "ab" * 32
OTHER = "tsf_" + "0123456789abcdef" + "_" + "cd" * 32
SECRET = secrets.token_urlsafe(48)  # never a secret written in the repository


class FakeCheck:
    def __init__(self, answers: dict[str, KeyCheck]):
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, text: str) -> KeyCheck:
        self.asked.append(text)
        return self.answers[text]


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _good(tenant: str = "acme", expire=None) -> KeyCheck:
    return KeyCheck(tenant, "apiKeys/0123456789abcdef", expire)


def test_a_check_is_kept_for_the_ttl_then_asked_again():
    check, clock = FakeCheck({KEY: _good()}), Clock()
    verifier = ApiKeyVerifier(check, 5.0, clock=clock)
    assert verifier.cached(KEY) is None
    assert verifier.verify(KEY) == Caller("acme", "apiKeys/0123456789abcdef")
    clock.now += 4.9
    assert verifier.cached(KEY) == Caller("acme", "apiKeys/0123456789abcdef")
    clock.now += 0.1
    assert verifier.cached(KEY) is None  # a revocation since is seen from now on
    check.answers[KEY] = KeyCheck(None, "apiKeys/0123456789abcdef", refusal="API key apiKeys/x was revoked")
    with pytest.raises(Unauthenticated, match="revoked"):
        verifier.verify(KEY)
    with pytest.raises(Unauthenticated, match="revoked"):
        verifier.cached(KEY)  # refusals are kept too: a revoked key does not hammer the database
    assert check.asked == [KEY, KEY]


def test_a_kept_check_is_for_that_text_only():
    unknown = KeyCheck(None, "", refusal="API key tsf_0123456789abcdef_… is not recognised")
    check = FakeCheck({KEY: _good(), OTHER: unknown})
    verifier = ApiKeyVerifier(check, 60.0, clock=Clock())
    verifier.verify(KEY)
    assert verifier.cached(OTHER) is None  # same id, another secret: asked, never taken from the cache
    with pytest.raises(Unauthenticated, match="not recognised"):
        verifier.verify(OTHER)


def test_a_key_that_expires_while_kept_is_refused_at_once():
    verifier = ApiKeyVerifier(FakeCheck({KEY: _good(expire=utc_now() + timedelta(milliseconds=50))}), 60.0)
    verifier.verify(KEY)
    import time

    time.sleep(0.06)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.cached(KEY)


def test_forget_drops_a_revoked_key_and_ttl_zero_keeps_nothing():
    check = FakeCheck({KEY: _good()})
    verifier = ApiKeyVerifier(check, 60.0, clock=Clock())
    verifier.verify(KEY)
    verifier.forget("apiKeys/0123456789abcdef")
    assert verifier.cached(KEY) is None
    uncached = ApiKeyVerifier(check, 0, clock=Clock())
    uncached.verify(KEY)
    assert uncached.cached(KEY) is None


def test_the_cache_is_bounded():
    answers = {f"tsf_{i:016x}_{'ab' * 32}": KeyCheck("acme", f"apiKeys/{i:016x}") for i in range(5)}
    verifier = ApiKeyVerifier(FakeCheck(answers), 60.0, clock=Clock(), max_keys=3)
    for text in answers:
        verifier.verify(text)
    kept = [text for text in answers if verifier.cached(text) is not None]
    assert kept == list(answers)[-3:]


def _caller(authenticator: Authenticator, authorization: str) -> Caller:
    return asyncio.run(authenticator.caller(authorization))


def test_the_authenticator_takes_jwts_and_keys_and_refuses_malformed_keys_without_asking():
    check = FakeCheck({KEY: _good()})
    authenticator = Authenticator(SECRET, ApiKeyVerifier(check, 60.0))
    assert _caller(authenticator, f"Bearer {issue_token(SECRET, 'acme')}") == Caller("acme")
    assert _caller(authenticator, f"Bearer {KEY}") == Caller("acme", "apiKeys/0123456789abcdef")
    for malformed in ("tsf_", "tsf_0123_abc", KEY + "0", KEY.upper().replace("TSF_", "tsf_"), KEY[:-1] + "g"):
        with pytest.raises(Unauthenticated, match="malformed API key"):
            _caller(authenticator, f"Bearer {malformed}")
    assert check.asked == [KEY]
    with pytest.raises(Unauthenticated, match="not accepted by this server"):
        _caller(Authenticator(SECRET), f"Bearer {KEY}")


def test_a_key_that_cannot_be_checked_is_unavailable_and_not_kept():
    def down(_text: str) -> KeyCheck:
        raise Unavailable("the upload service did not answer")

    verifier = ApiKeyVerifier(down, 60.0)
    with pytest.raises(Unavailable):
        _caller(Authenticator(SECRET, verifier), f"Bearer {KEY}")
    assert verifier.cached(KEY) is None


def test_keys_never_reach_a_log_line():
    redact = Redactor()
    line = redact(f"refused {KEY} (and 'x-api-key={OTHER}')")
    assert "ab" * 32 not in line and "cd" * 32 not in line
    assert "tsf_0123456789abcdef_[redacted]" in line  # the id stays: it says which key
