"""The tenant's one byte quota across services: a ledger of what each stores.

Each service owns its data and counts its own bytes exactly (upload: files and
unfinished uploads; training: datasets and run artifacts; models: version copies). The
quota, though, is the tenant's: so every service writes the total it stores for a
tenant into this ledger (schema "accounting", written and read only through this
module), in the transaction that changes it, and a quota check adds the other
services' totals to its own. Checks of one tenant take one advisory lock, whatever
service makes them, so two services cannot both take the last bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from tsforge.core.db import Database, migrate
from tsforge.core.errors import QuotaExceeded
from tsforge.core.timestamps import utc_now

SCHEMA = "accounting"
MIGRATIONS = Path(__file__).parent / "usage_migrations"

_LEDGER = sa.Table(
    "stored_bytes",
    sa.MetaData(schema=SCHEMA),
    sa.Column("tenant", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, primary_key=True),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
)


def migrate_ledger(db: Database) -> str:
    return migrate(db.engine, SCHEMA, MIGRATIONS)


def lock(session: Session, tenant: str) -> None:
    """Serialises the quota checks of `tenant` (of every service) until the transaction ends."""
    key = int.from_bytes(hashlib.sha256(f"tsforge.quota:{tenant}".encode()).digest()[:8], "big", signed=True)
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def record(session: Session, tenant: str, owner: str, stored_bytes: int) -> None:
    """`owner` (a service) now stores `stored_bytes` for `tenant`."""
    insert = postgresql.insert(_LEDGER).values(tenant=tenant, owner=owner, bytes=stored_bytes, update_time=utc_now())
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["tenant", "owner"], set_={"bytes": insert.excluded.bytes, "update_time": utc_now()}
        )
    )


def _bump(tenant: str, owner: str, delta: int):
    """The upsert that adds `delta` to `owner`'s bytes for `tenant` (a new row: delta)."""
    insert = postgresql.insert(_LEDGER).values(tenant=tenant, owner=owner, bytes=delta, update_time=utc_now())
    return insert.on_conflict_do_update(
        index_elements=["tenant", "owner"],
        set_={"bytes": _LEDGER.c.bytes + insert.excluded.bytes, "update_time": utc_now()},
    )


def add(session: Session, tenant: str, owner: str, delta: int) -> None:
    """`owner` stores `delta` more bytes (fewer when negative) for `tenant`: one statement,
    no sum over the owner's rows. Exact while every change of the owner goes through the
    ledger in the same transaction (see the owner's resync for the rows of before)."""
    session.execute(_bump(tenant, owner, delta))


def add_and_total(session: Session, tenant: str, owner: str, delta: int) -> int:
    """add(), and the tenant's total after it, in one statement (the other owners' rows as
    of this statement: call it under lock() to check the total against the quota)."""
    bumped = _bump(tenant, owner, delta).returning(_LEDGER.c.bytes).cte("bumped")
    others_now = sa.select(sa.func.coalesce(sa.func.sum(_LEDGER.c.bytes), 0)).where(
        _LEDGER.c.tenant == tenant, _LEDGER.c.owner != owner
    )
    query = sa.select(others_now.scalar_subquery() + sa.select(bumped.c.bytes).scalar_subquery())
    return int(session.scalar(query) or 0)


def total(session: Session, tenant: str) -> int:
    """What every service stores for `tenant`, by the ledger."""
    query = sa.select(sa.func.coalesce(sa.func.sum(_LEDGER.c.bytes), 0)).where(_LEDGER.c.tenant == tenant)
    return int(session.scalar(query) or 0)


def tenants_of(session: Session, owner: str) -> set[str]:
    """The tenants `owner` has a ledger row for."""
    return set(session.scalars(sa.select(_LEDGER.c.tenant).where(_LEDGER.c.owner == owner)))


def others(session: Session, tenant: str, owner: str) -> int:
    """What the services other than `owner` store for `tenant`."""
    query = sa.select(sa.func.coalesce(sa.func.sum(_LEDGER.c.bytes), 0)).where(
        _LEDGER.c.tenant == tenant, _LEDGER.c.owner != owner
    )
    return int(session.scalar(query) or 0)


def check(total: int, quota_bytes: int) -> None:
    """Raises QuotaExceeded when `total` bytes are over the tenant's quota."""
    if total > quota_bytes:
        raise QuotaExceeded(
            f"storing this would use {total} bytes, over the tenant's quota of {quota_bytes} bytes "
            "(TSFORGE_TENANT_QUOTA_BYTES; files, datasets, run artifacts and registered versions count)",
            subject="tenant:stored_bytes",
        )


def check_room(total: int, quota_bytes: int, work: str) -> None:
    """Raises QuotaExceeded when the tenant's `total` already fills its quota, so `work`
    (which stores more) cannot start."""
    if total >= quota_bytes:
        raise QuotaExceeded(
            f"the tenant stores {total} bytes, its whole quota of {quota_bytes} bytes "
            f"(TSFORGE_TENANT_QUOTA_BYTES): {work} would store more; delete files, sessions or model versions first",
            subject="tenant:stored_bytes",
        )
