"""The models schema: registered models, versions and aliases, as plain dataclasses.

Every query filters by tenant: another tenant's model is simply not there. List calls
are one query for the page plus one for the aliases of what it holds, whatever the
number of versions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from services.models.domain import ModelVersion, NewVersion, RegisteredModel
from services.models.names import model_version_name, registered_model_name
from services.models.rows import AliasRow, ModelVersionRow, RegisteredModelRow
from tsforge.common.v1 import common_pb2
from tsforge.core import usage
from tsforge.core.db import Database
from tsforge.core.errors import FailedPrecondition, NotFound
from tsforge.core.timestamps import utc_now

_NEW_FIELDS = tuple(NewVersion.__dataclass_fields__)
USAGE_OWNER = "models"


def _ref_bytes(*refs: bytes) -> int:
    """The sizes serialized ObjectRefs record, summed."""
    return sum(common_pb2.ObjectRef.FromString(ref).size_bytes for ref in refs)


def _model(row: RegisteredModelRow, aliases: dict[str, int]) -> RegisteredModel:
    return RegisteredModel(
        name=row.name,
        description=row.description,
        tags=dict(row.tags),
        latest_version=row.latest_version,
        aliases=aliases,
        create_time=row.create_time,
        update_time=row.update_time,
    )


def _version(row: ModelVersionRow, aliases: Sequence[str] = ()) -> ModelVersion:
    values = {name: getattr(row, name) for name in _NEW_FIELDS}
    values["formats"] = tuple(row.formats)
    values["tags"] = dict(row.tags)
    return ModelVersion(
        **values,
        model_name=row.model_name,
        version=row.version,
        aliases=tuple(sorted(aliases)),
        create_time=row.create_time,
        update_time=row.update_time,
    )


class ModelRepository:
    def __init__(self, db: Database, quota_bytes: int = 10 << 30):
        self._db = db
        self._quota_bytes = quota_bytes

    # -- registration ------------------------------------------------------------------

    def register(self, tenant: str, model: str, model_description: str, version: NewVersion) -> ModelVersion:
        """Stores `version` as the next number of `model`, creating the model if absent."""
        return self.register_many(tenant, model, model_description, [version])[0]

    def register_many(
        self, tenant: str, model: str, model_description: str, versions: Sequence[NewVersion]
    ) -> list[ModelVersion]:
        """Stores `versions` as the next numbers of `model` in one transaction, their
        objects counted against the tenant's byte quota. Raises QuotaExceeded."""
        now = utc_now()
        added = sum(_ref_bytes(v.artifact, v.bundle) for v in versions)
        with self._db.transaction() as session:
            # The quota lock before any row lock (every service takes it first).
            usage.lock(session, tenant)
            # One statement creates the model or bumps its counter under the row lock:
            # concurrent registrations get consecutive numbers, never the same one.
            latest = session.execute(
                insert(RegisteredModelRow)
                .values(
                    tenant=tenant,
                    name=model,
                    description=model_description,
                    tags={},
                    latest_version=len(versions),
                    create_time=now,
                    update_time=now,
                )
                .on_conflict_do_update(
                    index_elements=[RegisteredModelRow.tenant, RegisteredModelRow.name],
                    set_={"latest_version": RegisteredModelRow.latest_version + len(versions), "update_time": now},
                )
                .returning(RegisteredModelRow.latest_version)
            ).scalar_one()
            first = latest - len(versions) + 1
            rows = [
                {
                    **asdict(v),
                    "formats": list(v.formats),
                    "tenant": tenant,
                    "model_name": model,
                    "version": first + i,
                    "stored_bytes": _ref_bytes(v.artifact, v.bundle),
                    "create_time": now,
                    "update_time": now,
                }
                for i, v in enumerate(versions)
            ]
            session.execute(sa.insert(ModelVersionRow), rows)
            # Over the quota: the exception rolls all of it back.
            usage.check(usage.add_and_total(session, tenant, USAGE_OWNER, added), self._quota_bytes)
        return [
            ModelVersion(
                **{k: row[k] for k in _NEW_FIELDS},
                model_name=model,
                version=row["version"],
                create_time=now,
                update_time=now,
            )
            for row in rows
        ]

    # -- registered models -------------------------------------------------------------

    def get_model(self, tenant: str, model: str) -> RegisteredModel:
        with self._db.transaction() as session:
            row = session.get(RegisteredModelRow, (tenant, model))
            if row is None:
                raise NotFound(registered_model_name(model))
            return _model(row, self._aliases(session, tenant, [model]).get(model, {}))

    def list_models(self, tenant: str, limit: int, after: str | None, prefix: str, tag: str) -> list[RegisteredModel]:
        """Up to `limit` models by name after `after`, filtered by name prefix and tag
        ("key" or "key=value")."""
        query = sa.select(RegisteredModelRow).where(RegisteredModelRow.tenant == tenant)
        if after:
            query = query.where(RegisteredModelRow.name > after)
        if prefix:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(RegisteredModelRow.name.like(escaped + "%", escape="\\"))
        if tag:
            key, has_value, value = tag.partition("=")
            query = query.where(
                RegisteredModelRow.tags.contains({key: value}) if has_value else RegisteredModelRow.tags.has_key(key)
            )
        with self._db.transaction() as session:
            rows = session.scalars(query.order_by(RegisteredModelRow.name).limit(limit)).all()
            aliases = self._aliases(session, tenant, [row.name for row in rows])
            return [_model(row, aliases.get(row.name, {})) for row in rows]

    def update_model(self, tenant: str, model: str, description: str | None, tags: dict | None) -> RegisteredModel:
        with self._db.transaction() as session:
            row = session.get(RegisteredModelRow, (tenant, model), with_for_update=True)
            if row is None:
                raise NotFound(registered_model_name(model))
            if description is not None:
                row.description = description
            if tags is not None:
                row.tags = tags
            row.update_time = utc_now()
            session.flush()
            return _model(row, self._aliases(session, tenant, [model]).get(model, {}))

    def delete_model(self, tenant: str, model: str, force: bool) -> list[str]:
        """Deletes the model, its versions and (with force) its aliases; returns the
        versions' storage prefixes. Raises NotFound, FailedPrecondition."""
        with self._db.transaction() as session:
            usage.lock(session, tenant)
            row = session.get(RegisteredModelRow, (tenant, model), with_for_update=True)
            if row is None:
                raise NotFound(registered_model_name(model))
            aliases = self._aliases(session, tenant, [model]).get(model, {})
            if aliases and not force:
                listed = ", ".join(f"{alias} -> {version}" for alias, version in sorted(aliases.items()))
                raise FailedPrecondition(
                    f"aliases point at versions of this model ({listed}): delete them first or delete with force",
                    registered_model_name(model),
                )
            session.execute(sa.delete(AliasRow).where(AliasRow.tenant == tenant, AliasRow.model_name == model))
            prefixes = session.scalars(
                sa.delete(ModelVersionRow)
                .where(ModelVersionRow.tenant == tenant, ModelVersionRow.model_name == model)
                .returning(ModelVersionRow.storage_prefix)
            ).all()
            session.delete(row)
            session.flush()
            self._record_usage(session, tenant)
            return list(prefixes)

    # -- versions ------------------------------------------------------------------------

    def resolve_alias(self, tenant: str, model: str, alias: str) -> int:
        with self._db.transaction() as session:
            version = session.scalar(
                sa.select(AliasRow.version).where(
                    AliasRow.tenant == tenant, AliasRow.model_name == model, AliasRow.alias == alias
                )
            )
        if version is None:
            raise NotFound(f"{registered_model_name(model)}@{alias}")
        return version

    def get_version(self, tenant: str, model: str, version: int) -> ModelVersion:
        with self._db.transaction() as session:
            row = session.get(ModelVersionRow, (tenant, model, version))
            if row is None:
                raise NotFound(model_version_name(model, version))
            aliases = session.scalars(
                sa.select(AliasRow.alias).where(
                    AliasRow.tenant == tenant, AliasRow.model_name == model, AliasRow.version == version
                )
            ).all()
            return _version(row, aliases)

    def list_versions(self, tenant: str, model: str, limit: int, before: int | None) -> list[ModelVersion]:
        """Up to `limit` versions, newest first, below version `before` when given."""
        query = sa.select(ModelVersionRow).where(ModelVersionRow.tenant == tenant, ModelVersionRow.model_name == model)
        if before is not None:
            query = query.where(ModelVersionRow.version < before)
        with self._db.transaction() as session:
            rows = session.scalars(query.order_by(ModelVersionRow.version.desc()).limit(limit)).all()
            if not rows and session.get(RegisteredModelRow, (tenant, model)) is None:
                raise NotFound(registered_model_name(model))
            by_version: dict[int, list[str]] = {}
            for alias, version in self._aliases(session, tenant, [model]).get(model, {}).items():
                by_version.setdefault(version, []).append(alias)
            return [_version(row, by_version.get(row.version, ())) for row in rows]

    def update_version(
        self, tenant: str, model: str, version: int, description: str | None, tags: dict | None
    ) -> ModelVersion:
        with self._db.transaction() as session:
            row = session.get(ModelVersionRow, (tenant, model, version), with_for_update=True)
            if row is None:
                raise NotFound(model_version_name(model, version))
            if description is not None:
                row.description = description
            if tags is not None:
                row.tags = tags
            row.update_time = utc_now()
        return self.get_version(tenant, model, version)

    def delete_version(self, tenant: str, model: str, version: int) -> str:
        """Deletes the version; returns its storage prefix. Raises NotFound,
        FailedPrecondition while an alias points at it."""
        name = model_version_name(model, version)
        try:
            with self._db.transaction() as session:
                usage.lock(session, tenant)
                aliases = session.scalars(
                    sa.select(AliasRow.alias).where(
                        AliasRow.tenant == tenant, AliasRow.model_name == model, AliasRow.version == version
                    )
                ).all()
                if aliases:
                    raise FailedPrecondition(
                        f"aliases {', '.join(sorted(aliases))} point at this version: move or delete them first", name
                    )
                prefix = session.scalar(
                    sa.delete(ModelVersionRow)
                    .where(
                        ModelVersionRow.tenant == tenant,
                        ModelVersionRow.model_name == model,
                        ModelVersionRow.version == version,
                    )
                    .returning(ModelVersionRow.storage_prefix)
                )
                self._record_usage(session, tenant)
        except IntegrityError:  # an alias was set on it meanwhile: the foreign key refused
            raise FailedPrecondition("an alias points at this version: move or delete it first", name) from None
        if prefix is None:
            raise NotFound(name)
        return prefix

    # -- stored bytes (the tenant's quota) -----------------------------------------------

    def check_room(self, tenant: str, more_bytes: int) -> None:
        """Raises QuotaExceeded when `more_bytes` more would take the tenant over its
        quota (a check before writing; register_many checks again, exactly, under the lock)."""
        with self._db.transaction() as session:
            usage.check(usage.total(session, tenant) + more_bytes, self._quota_bytes)

    def add_stored_bytes(self, tenant: str, model: str, version: int, derived_bytes: int) -> bool:
        """Counts a derived object of the version (a converted .h5) if the quota has room
        for it: False (nothing counted) when it has not, or the version is gone. Setting,
        not adding: writing the same object twice counts it once."""
        with self._db.transaction() as session:
            usage.lock(session, tenant)
            row = session.get(ModelVersionRow, (tenant, model, version), with_for_update=True)
            if row is None:
                return False
            total = _ref_bytes(row.artifact, row.bundle) + derived_bytes
            if usage.total(session, tenant) - row.stored_bytes + total > self._quota_bytes:
                return False
            usage.add(session, tenant, USAGE_OWNER, total - row.stored_bytes)
            row.stored_bytes = total
            return True

    def resync_usage(self) -> int:
        """Writes each tenant's exact version bytes into the ledger (at start-up: versions
        stored before their bytes were counted, or a ledger restored apart from this
        schema); each tenant under its quota lock. Returns how many tenants it wrote."""
        with self._db.transaction() as session:
            tenants = set(session.scalars(sa.select(ModelVersionRow.tenant).distinct()))
            tenants |= usage.tenants_of(session, USAGE_OWNER)
        for tenant in sorted(tenants):
            with self._db.transaction() as session:
                usage.lock(session, tenant)
                self._record_usage(session, tenant)
        return len(tenants)

    @staticmethod
    def _used_bytes(session, tenant: str) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(ModelVersionRow.stored_bytes), 0)).where(
            ModelVersionRow.tenant == tenant
        )
        return int(session.scalar(query))

    def _record_usage(self, session, tenant: str) -> None:
        usage.record(session, tenant, USAGE_OWNER, self._used_bytes(session, tenant))

    # -- aliases -------------------------------------------------------------------------

    def set_alias(self, tenant: str, model: str, alias: str, version: int) -> RegisteredModel:
        """Points `alias` at `version` in one statement: created or moved atomically."""
        try:
            with self._db.transaction() as session:
                if session.get(RegisteredModelRow, (tenant, model)) is None:
                    raise NotFound(registered_model_name(model))
                session.execute(
                    insert(AliasRow)
                    .values(tenant=tenant, model_name=model, alias=alias, version=version)
                    .on_conflict_do_update(
                        index_elements=[AliasRow.tenant, AliasRow.model_name, AliasRow.alias], set_={"version": version}
                    )
                )
        except IntegrityError:  # the foreign key: no such version (or it was just deleted)
            raise NotFound(model_version_name(model, version)) from None
        return self.get_model(tenant, model)

    def delete_alias(self, tenant: str, model: str, alias: str) -> RegisteredModel:
        with self._db.transaction() as session:
            result = session.execute(
                sa.delete(AliasRow).where(
                    AliasRow.tenant == tenant, AliasRow.model_name == model, AliasRow.alias == alias
                )
            )
            deleted = cast(CursorResult, result).rowcount
        if not deleted:
            self.get_model(tenant, model)  # NotFound for the model itself when it is missing
            raise NotFound(f"{registered_model_name(model)}@{alias}")
        return self.get_model(tenant, model)

    @staticmethod
    def _aliases(session, tenant: str, models: list[str]) -> dict[str, dict[str, int]]:
        if not models:
            return {}
        result: dict[str, dict[str, int]] = {}
        for model, alias, version in session.execute(
            sa.select(AliasRow.model_name, AliasRow.alias, AliasRow.version).where(
                AliasRow.tenant == tenant, AliasRow.model_name.in_(models)
            )
        ):
            result.setdefault(model, {})[alias] = version
        return result
