"""Who a call is from: `authorization: Bearer <credential>`, an HS256 JWT whose subject
is the tenant, or an API key (`tsf_…`, api_keys.py) that acts for the tenant owning it.

A JWT is checked in-process. An API key is checked by the upload service, which hosts
the keys (in its own process against the database, elsewhere through its GetCaller
RPC), and every process keeps each check for half of TSFORGE_API_KEY_CACHE_SECONDS:
a process asking GetCaller may get the upload process's kept answer, so a revoked or
expired key is refused everywhere within the whole setting. A key that cannot be
checked (database or upload service unreachable) is UNAVAILABLE, never a bad key.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import jwt

from tsforge.core.api_keys import MALFORMED, KeyCheck, is_api_key, is_well_formed
from tsforge.core.errors import Unauthenticated, Unavailable
from tsforge.core.timestamps import utc_now

# Matched in full (fullmatch): "$" alone would let a trailing newline through.
TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
MAX_CACHED_KEYS = 10_000


def issue_token(secret: str, tenant: str, ttl_seconds: int = 30 * 24 * 3600) -> str:
    """A signed token for `tenant`. Raises ValueError for a tenant name tsforge cannot store."""
    if not TENANT_PATTERN.fullmatch(tenant):
        raise ValueError("tenant must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
    now = int(time.time())
    return jwt.encode({"sub": tenant, "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256")


def bearer_credential(authorization: str | None) -> str:
    """The credential of an `authorization: Bearer <credential>` header value.

    Raises Unauthenticated when the header is missing or not a bearer credential.
    """
    if not authorization:
        raise Unauthenticated("missing authorization metadata: send 'authorization: Bearer <token>'")
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("authorization must be 'Bearer <token>'")
    return credential.strip()


def tenant_from_token(secret: str, token: str) -> str:
    """The tenant of a JWT. Raises Unauthenticated when it is malformed, expired or badly signed."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None
    tenant = claims["sub"]
    if not isinstance(tenant, str) or not TENANT_PATTERN.fullmatch(tenant):
        raise Unauthenticated("token subject is not a valid tenant name")
    return tenant


def tenant_from_authorization(secret: str, authorization: str | None) -> str:
    """The tenant of an `authorization: Bearer <JWT>` header value.

    Raises Unauthenticated when the header is missing, malformed, expired or badly signed.
    """
    return tenant_from_token(secret, bearer_credential(authorization))


@dataclass(frozen=True)
class Caller:
    """Who a call is from: the tenant, and the API key ("apiKeys/{id}") when one was used."""

    tenant: str
    api_key: str | None = None


def _caller(check: KeyCheck) -> Caller:
    """The caller a check stands for. Raises Unauthenticated for a refused or expired key."""
    if check.refusal is not None or check.tenant is None:
        raise Unauthenticated(check.refusal or "API key refused")
    if check.expire_time is not None and check.expire_time <= utc_now():
        raise Unauthenticated(f"API key {check.api_key} expired at {check.expire_time.isoformat()}")
    return Caller(check.tenant, check.api_key)


class ApiKeyVerifier:
    """API keys as one server sees them: `check(text)` (blocking: the database or the
    upload service) asked at most once per `ttl_seconds` for each key text, refusals
    included, for up to MAX_CACHED_KEYS texts (least recently used dropped first).
    Thread-safe: cache hits are answered on the event loop, misses on the pool.
    """

    def __init__(
        self,
        check: Callable[[str], KeyCheck],
        ttl_seconds: float,
        *,
        close: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_CACHED_KEYS,
    ):
        self._check = check
        self.ttl_seconds = ttl_seconds
        self._close = close
        self._clock = clock
        self._max_keys = max_keys
        self._checks: OrderedDict[bytes, tuple[float, KeyCheck]] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, text: str) -> Caller | None:
        """The caller of a key checked less than ttl_seconds ago, or None (ask verify()).

        Raises Unauthenticated when that check refused the key, or it has expired since.
        """
        digest = hashlib.sha256(text.encode()).digest()
        with self._lock:
            entry = self._checks.get(digest)
            if entry is None or self._clock() - entry[0] >= self.ttl_seconds:
                return None
            self._checks.move_to_end(digest)
        return _caller(entry[1])

    def verify(self, text: str) -> Caller:
        """The caller of a key, checked now. Raises Unauthenticated (refused), Unavailable
        or the database's errors (it cannot be checked)."""
        checked_at = self._clock()
        check = self._check(text)
        if self.ttl_seconds > 0:
            digest = hashlib.sha256(text.encode()).digest()
            with self._lock:
                self._checks[digest] = (checked_at, check)
                self._checks.move_to_end(digest)
                while len(self._checks) > self._max_keys:
                    self._checks.popitem(last=False)
        return _caller(check)

    def forget(self, api_key: str) -> None:
        """Drops what is kept of the key "apiKeys/{id}" (it was just revoked here)."""
        with self._lock:
            for digest in [d for d, (_, check) in self._checks.items() if check.api_key == api_key]:
                del self._checks[digest]

    def close(self) -> None:
        self._close()


class UploadServiceKeyCheck:
    """Checks a key by asking the upload service who the key's caller is (GetCaller with
    the key as the call's credential)."""

    def __init__(self, upload_address: str, timeout: float = 5.0):
        from tsforge.core.channels import client_channel
        from tsforge.upload.v1 import upload_service_pb2_grpc

        self._channel = client_channel(upload_address)
        self._stub = upload_service_pb2_grpc.UploadServiceStub(self._channel)
        self._timeout = timeout

    def __call__(self, text: str) -> KeyCheck:
        """What the upload service says of the key. Raises Unavailable when it does not answer."""
        from tsforge.upload.v1 import api_keys_pb2

        try:
            caller = self._stub.GetCaller(
                api_keys_pb2.GetCallerRequest(), metadata=(("authorization", f"Bearer {text}"),), timeout=self._timeout
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAUTHENTICATED:
                return KeyCheck(None, "", refusal=error.details())
            raise Unavailable(
                f"API keys are checked by the upload service, which did not answer ({error.code().name}); retry shortly"
            ) from None
        expire_time = caller.expire_time.ToDatetime(tzinfo=utc_now().tzinfo) if caller.HasField("expire_time") else None
        return KeyCheck(caller.tenant, caller.api_key, expire_time)

    def close(self) -> None:
        self._channel.close()


class Authenticator:
    """The caller of every call a server takes: JWTs signed with `jwt_secret`, and API
    keys through `api_keys` (None: keys are refused, e.g. a bare test server)."""

    def __init__(self, jwt_secret: str, api_keys: ApiKeyVerifier | None = None):
        self._jwt_secret = jwt_secret
        self._api_keys = api_keys

    async def caller(self, authorization: str | None) -> Caller:
        """Raises Unauthenticated; for a key that cannot be checked, Unavailable or the
        database's errors (mapped to UNAVAILABLE with every other outage)."""
        credential = bearer_credential(authorization)
        if not is_api_key(credential):
            return Caller(tenant_from_token(self._jwt_secret, credential))
        if not is_well_formed(credential):
            raise Unauthenticated(MALFORMED)
        if self._api_keys is None:
            raise Unauthenticated("API keys are not accepted by this server: use a token")
        known = self._api_keys.cached(credential)
        if known is not None:
            return known
        return await asyncio.to_thread(self._api_keys.verify, credential)

    def close(self) -> None:
        if self._api_keys is not None:
            self._api_keys.close()
