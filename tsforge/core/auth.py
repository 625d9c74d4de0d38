"""Bearer tokens: HS256 JWTs whose subject is the tenant."""

from __future__ import annotations

import re
import time

import jwt

from tsforge.core.errors import Unauthenticated

# Matched in full (fullmatch): "$" alone would let a trailing newline through.
TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


def issue_token(secret: str, tenant: str, ttl_seconds: int = 30 * 24 * 3600) -> str:
    """A signed token for `tenant`. Raises ValueError for a tenant name tsforge cannot store."""
    if not TENANT_PATTERN.fullmatch(tenant):
        raise ValueError("tenant must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
    now = int(time.time())
    return jwt.encode({"sub": tenant, "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256")


def tenant_from_authorization(secret: str, authorization: str | None) -> str:
    """The tenant of an `authorization: Bearer <JWT>` header value.

    Raises Unauthenticated when the header is missing, malformed, expired or badly signed.
    """
    if not authorization:
        raise Unauthenticated("missing authorization metadata: send 'authorization: Bearer <token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("authorization must be 'Bearer <token>'")
    try:
        claims = jwt.decode(token.strip(), secret, algorithms=["HS256"], options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from None
    tenant = claims["sub"]
    if not isinstance(tenant, str) or not TENANT_PATTERN.fullmatch(tenant):
        raise Unauthenticated("token subject is not a valid tenant name")
    return tenant
