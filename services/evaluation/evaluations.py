"""Evaluations: queued once per (tenant, run, model, options), computed by a worker
(worker.py, execution.py), followed through their events, read back.

CreateEvaluation may arrive twice at once, on two replicas: the unique identity index
decides whose row is queued; the other returns that row. Whether the run can be
evaluated at all (SUCCEEDED, the tenant's) is checked before anything is queued, so
those errors stay the caller's own.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator

from google.protobuf import json_format

from services.evaluation import repository as repo
from services.evaluation.compute import evaluable_models
from services.evaluation.messages import table_csv
from services.evaluation.predictions import TrainingSource
from services.evaluation.requests import (
    checked,
    keep,
    selection,
    table_page_size,
    validate_create,
)
from tsforge.common.v1 import common_pb2
from tsforge.core import events
from tsforge.core.db import Database
from tsforge.core.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from tsforge.core.names import parse_name
from tsforge.core.pagination import decode_offset, decode_token, encode_offset, page_size, paginate
from tsforge.core.timestamps import timestamp, utc_now
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er

COLLECTION = "evaluations"
EXPORT_CHUNK_BYTES = 1 << 20
# 2: every implied season a baseline, the strongest named (1: one season, none named).
METHOD_VERSION = 2


class Evaluations:
    def __init__(self, db: Database, training: TrainingSource, hub: events.EventHub):
        self._db = db
        self._training = training
        self._hub = hub

    # -- creating -------------------------------------------------------------------

    def create(self, tenant: str, request: er.Evaluation) -> er.Evaluation:
        """The evaluation of (run, model, options): the stored one in whatever state it is
        (queued again when it FAILED for a passing reason), else a new one, QUEUED.

        Raises InvalidArgument, NotFound (the run or model, also another tenant's),
        FailedPrecondition (the run or model is not SUCCEEDED), Unavailable.
        """
        run_id, model, options = validate_create(request)
        identity = {
            "tenant": tenant,
            "run_id": run_id,
            "model": model,
            "season_steps": options.season_steps,
            "infer_season": options.infer_season,
            "seasons": list(options.seasons),
            "baseline_metric": options.baseline_metric,
            "method_version": METHOD_VERSION,
        }
        with self._db.transaction() as session:
            row = repo.find(session, identity)
        if row is not None:
            if row.state == er.EVALUATION_STATE_FAILED and row.failure_retryable:
                evaluable_models(self._training, tenant, run_id, model)  # still there, still SUCCEEDED
                with self._db.transaction() as session:
                    repo.queue_again(session, row.id, utc_now())
                    row = _found(repo.get(session, tenant, row.id), f"{COLLECTION}/{row.id}")
            return self._message(row)
        models, _ = evaluable_models(self._training, tenant, run_id, model)
        stamp = utc_now()
        with self._db.transaction() as session:
            queued = repo.queue(
                session,
                {
                    **identity,
                    "id": uuid.uuid4().hex,
                    "failure_reason": "",
                    # What will be evaluated; the worker replaces it with what was.
                    "document": {"models": [m.name for m in models], "features": []},
                    "create_time": stamp,
                    "update_time": stamp,
                },
            )
        if queued is None:  # another request queued it first: theirs is the one
            with self._db.transaction() as session:
                queued = _found(repo.find(session, identity), request.run)
        return self._message(queued)

    # -- watching -------------------------------------------------------------------

    async def watch(self, tenant: str, name: str, after: int) -> AsyncIterator[er.EvaluationEvent]:
        """The evaluation's events after `after`, then live ones until it is READY or
        FAILED (at once when the caller has seen that already).

        Raises InvalidArgument, NotFound (also another tenant's evaluation).
        """
        violations: list[FieldViolation] = []
        evaluation_id = checked(violations, lambda: parse_name(name, COLLECTION))
        if after < 0:
            violations.append(FieldViolation("after_sequence", "must not be negative"))
        if violations:
            raise InvalidArgument(violations)
        await asyncio.to_thread(self._check_exists, tenant, evaluation_id, name)
        async for event in events.watch(
            self._db,
            self._hub,
            repo.EVENTS,
            repo.EvaluationRow,
            evaluation_id,
            after,
            er.EvaluationEvent,
            repo.TERMINAL,
        ):
            yield event

    def _check_exists(self, tenant: str, evaluation_id: str, name: str) -> None:
        with self._db.transaction() as session:
            _found(repo.get(session, tenant, evaluation_id), name)

    # -- reading --------------------------------------------------------------------

    def get(self, tenant: str, name: str) -> er.Evaluation:
        """Raises InvalidArgument (a bad name), NotFound."""
        evaluation_id = parse_name(name, COLLECTION)
        with self._db.transaction() as session:
            return self._message(_found(repo.get(session, tenant, evaluation_id), name), session)

    def list(self, tenant: str, requested_page_size: int, page_token: str, run: str) -> tuple[list[er.Evaluation], str]:
        """One page of the tenant's evaluations, newest first, optionally of one run.

        Raises InvalidArgument naming every bad field.
        """
        violations: list[FieldViolation] = []
        limit = checked(violations, lambda: page_size(requested_page_size))
        after = checked(violations, lambda: decode_token(page_token))
        run_id = checked(violations, lambda: parse_name(run, "runs", "run")) if run else ""
        if violations:
            raise InvalidArgument(violations)
        with self._db.transaction() as session:
            rows, token = paginate(repo.list_page(session, tenant, run_id, limit + 1, after), limit)
            return [self._message(row, session) for row in rows], token

    def read_table(
        self, tenant: str, name: str, selector: er.MetricTable, requested_page_size: int, page_token: str
    ) -> tuple[er.MetricTable, str]:
        """One page of rows of a READY evaluation's table, and the next page's token.

        `selector` is a tsforge.evaluation.v1.MetricTableSelector. Raises
        InvalidArgument, NotFound, FailedPrecondition (not READY).
        """
        violations: list[FieldViolation] = []
        limit = checked(violations, lambda: table_page_size(requested_page_size))
        offset = checked(violations, lambda: decode_offset(page_token))
        table = self._table(tenant, name, selector, violations)
        rows = table.rows[offset : offset + limit]
        page = er.MetricTable(
            kind=table.kind,
            split=table.split,
            units=table.units,
            rank_metric=table.rank_metric,
            rows=rows,
            reference_baseline=table.reference_baseline if table.HasField("reference_baseline") else None,
        )
        more = offset + limit < len(table.rows)
        return page, encode_offset(offset + limit) if more else ""

    def export_table(self, tenant: str, name: str, selector) -> tuple[common_pb2.DownloadHeader, Iterator[bytes]]:
        """A READY evaluation's table as CSV (messages.table_csv): its header and chunks of
        at most 1 MiB. Raises InvalidArgument, NotFound, FailedPrecondition."""
        table = self._table(tenant, name, selector, [])
        data = table_csv(table)
        kind = er.MetricTableKind.Name(table.kind).removeprefix("METRIC_TABLE_KIND_").lower()
        split = common_pb2.DataSplit.Name(table.split).removeprefix("DATA_SPLIT_").lower()
        units = er.ValueUnits.Name(table.units).removeprefix("VALUE_UNITS_").lower()
        suffix = f"-{er.Metric.Name(table.rank_metric).removeprefix('METRIC_').lower()}" if table.rank_metric else ""
        header = common_pb2.DownloadHeader(
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_type="text/csv",
            file_name=f"{name.split('/')[-1]}-{kind}-{split}-{units}{suffix}.csv",
        )
        return header, (data[i : i + EXPORT_CHUNK_BYTES] for i in range(0, max(len(data), 1), EXPORT_CHUNK_BYTES))

    def ready(self, tenant: str, name: str) -> er.Evaluation:
        """The evaluation, which must be READY. Raises InvalidArgument, NotFound, FailedPrecondition."""
        evaluation = self.get(tenant, name)
        _require_ready(evaluation)
        return evaluation

    def stored_table(
        self, evaluation: er.Evaluation, kind: int, split: int, units: int, rank_metric: int = 0
    ) -> er.MetricTable:
        with self._db.transaction() as session:
            found = repo.tables(session, evaluation.name.split("/")[1], kind, split, units, rank_metric)
        return found[0] if found else er.MetricTable(kind=kind, split=split, units=units, rank_metric=rank_metric)

    def _table(self, tenant: str, name: str, selector, violations: builtins.list[FieldViolation]) -> er.MetricTable:
        """The selected table, its rows filtered; raises with `violations` and the selector's own."""
        evaluation = None
        try:
            evaluation = self.get(tenant, name)
        except InvalidArgument as error:
            violations += error.violations
        chosen = selection(selector, evaluation, violations)
        if violations:
            raise InvalidArgument(violations)
        assert evaluation is not None  # or get() added a violation
        _require_ready(evaluation)
        table = self.stored_table(evaluation, chosen.kind, chosen.split, chosen.units, chosen.rank_metric)
        kept = [row for row in table.rows if keep(row, chosen)]
        del table.rows[:]
        table.rows.extend(kept)
        return table

    def _message(self, row: repo.EvaluationRow, session=None) -> er.Evaluation:
        document = row.document or {}
        requested = er.EvaluationOptions(
            season_steps=row.season_steps,
            infer_season=row.infer_season,
            seasons=row.seasons or [],
            baseline_metric=row.baseline_metric,
        )
        if document.get("season_steps"):
            requested.season_steps = document["season_steps"]
        model = er.Evaluation(
            name=f"{COLLECTION}/{row.id}",
            run=f"runs/{row.run_id}",
            model=row.model,
            options=requested,
            state=row.state,
            failure_reason=row.failure_reason,
            models=document.get("models", []),
            features=document.get("features", []),
            create_time=timestamp(row.create_time),
            start_time=timestamp(row.start_time),
            end_time=timestamp(row.end_time),
            baselines=[json_format.ParseDict(b, er.BaselineForecast()) for b in document.get("baselines", [])],
        )
        if "baseline_comparison" in document:
            json_format.ParseDict(document["baseline_comparison"], model.baseline_comparison)
        if row.state == er.EVALUATION_STATE_READY:
            if session is None:
                with self._db.transaction() as own:
                    model.overall_tables.extend(repo.tables(own, row.id, er.METRIC_TABLE_KIND_OVERALL))
            else:
                model.overall_tables.extend(repo.tables(session, row.id, er.METRIC_TABLE_KIND_OVERALL))
        return model


def _require_ready(evaluation: er.Evaluation) -> None:
    if evaluation.state != er.EVALUATION_STATE_READY:
        state = er.EvaluationState.Name(evaluation.state)
        raise FailedPrecondition(f"{evaluation.name} is {state}, not READY", evaluation.name)


def _found(row, name: str):
    if row is None:
        raise NotFound(name)
    return row
