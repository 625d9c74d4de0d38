"""API keys: long-lived credentials of a tenant for service accounts and scripts.

A key's text is `tsf_{id}_{secret}`: 16 hex digits of id, 64 hex digits (32 random
bytes) of secret. Only the secret's SHA-256 is stored (schema "auth", written and read
only through this module): a secret of 256 random bits needs no slow hash, since
nobody can guess one to match the digest, and a plain digest does not tie the keys to
the JWT secret, which may be rotated. A key is looked up by its id and its secret
compared with hmac.compare_digest. The upload service hosts the store and the RPCs;
every other service asks it (GetCaller) and keeps the answer briefly (auth.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from tsforge.core.db import Database, migrate, newest_first
from tsforge.core.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied, QuotaExceeded
from tsforge.core.pagination import decode_token, page_size, paginate
from tsforge.core.timestamps import utc_now
from tsforge.core.validation import display_name_problems

SCHEMA = "auth"
MIGRATIONS = Path(__file__).parent / "api_key_migrations"
PREFIX = "tsf_"
KEY_PATTERN = re.compile(r"tsf_([0-9a-f]{16})_([0-9a-f]{64})")
COLLECTION = "apiKeys"

_KEYS = sa.Table(
    "api_keys",
    sa.MetaData(schema=SCHEMA),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant", sa.Text, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("secret_sha256", sa.LargeBinary, nullable=False),
    sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expire_time", sa.DateTime(timezone=True)),
    sa.Column("last_use_time", sa.DateTime(timezone=True)),
    sa.Column("revoke_time", sa.DateTime(timezone=True)),
)


def is_api_key(token: str) -> bool:
    """Whether a bearer token is meant as an API key (rather than a JWT)."""
    return token.startswith(PREFIX)


MALFORMED = "malformed API key: expected tsf_ followed by 16 and 64 hex digits"


def is_well_formed(text: str) -> bool:
    return KEY_PATTERN.fullmatch(text) is not None


def secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def key_name(key_id: str) -> str:
    return f"{COLLECTION}/{key_id}"


@dataclass(frozen=True)
class ApiKey:
    """A stored key: everything but its secret, which tsforge does not have."""

    id: str
    tenant: str
    display_name: str
    create_time: datetime
    expire_time: datetime | None
    last_use_time: datetime | None
    revoke_time: datetime | None

    @property
    def name(self) -> str:
        return key_name(self.id)

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.id}_"


@dataclass(frozen=True)
class KeyCheck:
    """What checking a key's text found: the tenant it acts for, or why it is refused."""

    tenant: str | None
    api_key: str  # "apiKeys/{id}", "" when the text names no key
    expire_time: datetime | None = None
    refusal: str | None = None  # the UNAUTHENTICATED message, None for a good key


def _row(row) -> ApiKey:
    return ApiKey(
        id=row.id,
        tenant=row.tenant,
        display_name=row.display_name,
        create_time=row.create_time,
        expire_time=row.expire_time,
        last_use_time=row.last_use_time,
        revoke_time=row.revoke_time,
    )


_COLUMNS = (
    _KEYS.c.id,
    _KEYS.c.tenant,
    _KEYS.c.display_name,
    _KEYS.c.create_time,
    _KEYS.c.expire_time,
    _KEYS.c.last_use_time,
    _KEYS.c.revoke_time,
)


class ApiKeys:
    """The keys of every tenant: create, list, revoke, and check a key's text.

    `on_revoke(name)` is told of each revocation, so this process's cache of checks
    forgets the key at once (other processes within their cache's lifetime).
    """

    def __init__(
        self,
        db: Database,
        max_per_tenant: int,
        on_revoke: Callable[[str], None] = lambda _name: None,
        clock: Callable[[], datetime] = utc_now,
    ):
        self._db = db
        self._max_per_tenant = max_per_tenant
        self._on_revoke = on_revoke
        self._clock = clock

    def migrate(self) -> str:
        """Brings the "auth" schema to its newest version; returns that version."""
        return migrate(self._db.engine, SCHEMA, MIGRATIONS)

    def create(
        self, tenant: str, display_name: str, expire_time: datetime | None, by_api_key: str | None = None
    ) -> tuple[ApiKey, str]:
        """A new key of `tenant` and its text (to show once; only its digest is kept).

        Raises InvalidArgument (display name, an expiry not in the future),
        PermissionDenied when the caller authenticated with an API key (`by_api_key`),
        QuotaExceeded past the tenant's limit of usable keys.
        """
        if by_api_key:
            raise PermissionDenied(
                f"an API key ({by_api_key}) cannot create API keys: use a token (tsforge token) to create one"
            )
        now = self._clock()
        problems = display_name_problems(display_name, "api_key.display_name")
        if expire_time is not None and expire_time <= now:
            problems.append(FieldViolation("api_key.expire_time", "must be in the future (or unset: never expires)"))
        if problems:
            raise InvalidArgument(problems)
        key_id, secret = secrets.token_hex(8), secrets.token_hex(32)
        with self._db.transaction() as session:
            lock = sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"tsforge.api_keys:{tenant}"))
            session.execute(sa.select(lock))
            usable = session.scalar(
                sa.select(sa.func.count()).where(
                    _KEYS.c.tenant == tenant,
                    _KEYS.c.revoke_time.is_(None),
                    sa.or_(_KEYS.c.expire_time.is_(None), _KEYS.c.expire_time > now),
                )
            )
            if (usable or 0) >= self._max_per_tenant:
                raise QuotaExceeded(
                    f"this tenant has {usable} API keys that are neither revoked nor expired; the limit is "
                    f"{self._max_per_tenant} (TSFORGE_TENANT_MAX_API_KEYS): revoke keys no longer used",
                    subject="tenant:api_keys",
                )
            row = session.execute(
                sa.insert(_KEYS)
                .values(
                    id=key_id,
                    tenant=tenant,
                    display_name=display_name,
                    secret_sha256=secret_digest(secret),
                    create_time=now,
                    expire_time=expire_time,
                )
                .returning(*_COLUMNS)
            ).one()
        return _row(row), f"{PREFIX}{key_id}_{secret}"

    def list(self, tenant: str, requested_page_size: int, page_token: str) -> tuple[list[ApiKey], str]:
        """One page of the tenant's keys, newest first, and the next page's token.

        Raises InvalidArgument for a bad page size or token.
        """
        limit = page_size(requested_page_size)
        after = decode_token(page_token)
        query = newest_first(sa.select(*_COLUMNS).where(_KEYS.c.tenant == tenant), _KEYS.c, limit + 1, after)
        with self._db.transaction() as session:
            items = [_row(row) for row in session.execute(query)]
        return paginate(items, limit)

    def get(self, tenant: str, key_id: str) -> ApiKey:
        """The tenant's key. Raises NotFound, also for another tenant's key."""
        with self._db.transaction() as session:
            row = session.execute(
                sa.select(*_COLUMNS).where(_KEYS.c.id == key_id, _KEYS.c.tenant == tenant)
            ).one_or_none()
        if row is None:
            raise NotFound(key_name(key_id))
        return _row(row)

    def revoke(self, tenant: str, key_id: str) -> ApiKey:
        """Revokes the tenant's key (a revoked one stays as it was). Raises NotFound,
        also for another tenant's key."""
        now = self._clock()
        with self._db.transaction() as session:
            row = session.execute(
                sa.update(_KEYS)
                .where(_KEYS.c.id == key_id, _KEYS.c.tenant == tenant)
                .values(revoke_time=sa.func.coalesce(_KEYS.c.revoke_time, now))
                .returning(*_COLUMNS)
            ).one_or_none()
        if row is None:
            raise NotFound(key_name(key_id))
        self._on_revoke(key_name(key_id))
        return _row(row)

    def check(self, text: str) -> KeyCheck:
        """Whether `text` is a usable key, and whose; records its use.

        Refusals (malformed, unknown, wrong secret, revoked, expired) are returned, not
        raised; a database that cannot be reached raises (SQLAlchemy's errors:
        UNAVAILABLE, never a bad key).
        """
        found = KEY_PATTERN.fullmatch(text)
        if found is None:
            return KeyCheck(None, "", refusal=MALFORMED)
        key_id, secret = found.groups()
        name = key_name(key_id)
        with self._db.transaction() as session:
            row = session.execute(
                sa.select(_KEYS.c.tenant, _KEYS.c.secret_sha256, _KEYS.c.expire_time, _KEYS.c.revoke_time).where(
                    _KEYS.c.id == key_id
                )
            ).one_or_none()
            if row is None or not hmac.compare_digest(bytes(row.secret_sha256), secret_digest(secret)):
                return KeyCheck(None, name, refusal=f"API key {PREFIX}{key_id}_… is not recognised")
            if row.revoke_time is not None:
                return KeyCheck(None, name, refusal=f"API key {name} was revoked at {row.revoke_time.isoformat()}")
            now = self._clock()
            if row.expire_time is not None and row.expire_time <= now:
                return KeyCheck(None, name, refusal=f"API key {name} expired at {row.expire_time.isoformat()}")
            session.execute(sa.update(_KEYS).where(_KEYS.c.id == key_id).values(last_use_time=now))
        return KeyCheck(row.tenant, name, row.expire_time)
