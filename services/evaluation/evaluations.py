"""Evaluations: computed once per (tenant, run, model, options), stored, read back.

CreateEvaluation may arrive twice at once, on two replicas: the unique identity index
decides who computes; the other waits for the stored result. A computation whose
process died leaves a COMPUTING row that goes stale and is taken over.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

from google.protobuf import json_format

from services.evaluation import repository as repo
from services.evaluation.compute import (
    compute_evaluation,
    plan_baselines,
)
from services.evaluation.messages import baseline_message, comparison_message, table_csv
from services.evaluation.metrics import Metric
from services.evaluation.predictions import TrainingSource
from services.evaluation.requests import (
    RequestedOptions,
    checked,
    keep,
    selection,
    table_page_size,
    validate_create,
)
from tsforge.common.v1 import common_pb2
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
from tsforge.training.v1 import training_resources_pb2 as tr

log = logging.getLogger(__name__)

COLLECTION = "evaluations"
WAIT_SECONDS = 120.0  # how long a second request waits for another's computation
STALE_AFTER = timedelta(minutes=10)  # a COMPUTING row untouched this long lost its computer
POLL_SECONDS = 0.2
EXPORT_CHUNK_BYTES = 1 << 20
# 2: every implied season a baseline, the strongest named (1: one season, none named).
METHOD_VERSION = 2


class Evaluations:
    def __init__(self, db: Database, training: TrainingSource):
        self._db = db
        self._training = training

    # -- creating -------------------------------------------------------------------

    def create(self, tenant: str, request: er.Evaluation) -> er.Evaluation:
        """The stored evaluation of (run, model, options), computed now if there is none.

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
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            with self._db.transaction() as session:
                row = repo.find(session, identity)
            if row is None:
                models, dataset = self._evaluable(tenant, run_id, model)
                evaluation_id = uuid.uuid4().hex
                stamp = utc_now()
                with self._db.transaction() as session:
                    claimed = repo.insert_if_absent(
                        session,
                        {
                            **identity,
                            "id": evaluation_id,
                            "state": er.EVALUATION_STATE_COMPUTING,
                            "failure_reason": "",
                            "document": {},
                            "create_time": stamp,
                            "update_time": stamp,
                        },
                    )
                if claimed:
                    return self._compute(tenant, evaluation_id, models, options, dataset)
                continue  # someone else inserted it first: wait for theirs
            if row.state != er.EVALUATION_STATE_COMPUTING:
                return self._message(row)
            if utc_now() - row.update_time > STALE_AFTER:
                with self._db.transaction() as session:
                    claimed = repo.claim_stale(session, row.id, row.update_time, utc_now())
                if claimed:
                    log.warning("taking over stale evaluation %s", row.id)
                    models, dataset = self._evaluable(tenant, run_id, model)
                    return self._compute(tenant, row.id, models, options, dataset)
            if time.monotonic() > deadline:
                return self._message(row)
            time.sleep(POLL_SECONDS)

    def _evaluable(self, tenant: str, run_id: str, model: str) -> tuple[list[tr.ModelResult], tr.Dataset]:
        run_name = f"runs/{run_id}"
        run = self._training.get_run(tenant, run_name)
        if run.state != tr.RUN_STATE_SUCCEEDED:
            raise FailedPrecondition(
                f"{run_name} is {tr.RunState.Name(run.state)}, not SUCCEEDED: only finished runs can be evaluated",
                run_name,
            )
        models = [m for m in run.models if m.state == tr.MODEL_STATE_SUCCEEDED and (not model or m.name == model)]
        if model and not models:
            if not any(m.name == model for m in run.models):
                raise NotFound(model)
            state = next(m.state for m in run.models if m.name == model)
            raise FailedPrecondition(f"{model} is {tr.ModelState.Name(state)}, not SUCCEEDED", model)
        return models, self._training.get_dataset(tenant, run.dataset)

    def _compute(
        self,
        tenant: str,
        evaluation_id: str,
        models: list[tr.ModelResult],
        options: RequestedOptions,
        dataset: tr.Dataset,
    ) -> er.Evaluation:
        started = time.perf_counter()
        plan = plan_baselines(options.season_steps, options.seasons, Metric(options.baseline_metric), dataset)
        season = plan.mase_season or 1
        try:
            computed = compute_evaluation(self._training, tenant, models, plan)
        except ValueError as error:
            # The stored predictions cannot be scored together: a lasting fact, stored.
            with self._db.transaction() as session:
                repo.finish(
                    session,
                    evaluation_id,
                    er.EVALUATION_STATE_FAILED,
                    str(error),
                    {"models": [m.name for m in models], "features": [], "season_steps": season},
                    [],
                    utc_now(),
                )
                return self._message(repo.get(session, tenant, evaluation_id))
        except BaseException:
            # Passing (training unreachable, the run deleted meanwhile): the next request retries.
            with self._db.transaction() as session:
                repo.delete(session, evaluation_id)
            raise
        document = {
            "models": list(computed.models),
            "features": list(computed.features),
            "season_steps": computed.season_steps,
            "baselines": [_as_dict(baseline_message(key, plan.step_minutes)) for key in computed.baselines],
            "baseline_comparison": _as_dict(
                comparison_message(computed.comparison, computed.comparison_units, plan.step_minutes)
            ),
        }
        with self._db.transaction() as session:
            repo.finish(
                session, evaluation_id, er.EVALUATION_STATE_READY, "", document, list(computed.tables), utc_now()
            )
            row = repo.get(session, tenant, evaluation_id)
            message = self._message(row, session)
        comparison = computed.comparison
        log.info(
            "evaluated %d models of run %s in %.2f s; strongest baseline %s, beaten by %d",
            len(computed.models),
            row.run_id,
            time.perf_counter() - started,
            comparison.best_baseline.label(plan.step_minutes) if comparison.best_baseline else "none",
            len(comparison.models_beating),
        )
        return message

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

    def _table(self, tenant: str, name: str, selector, violations: list[FieldViolation]) -> er.MetricTable:
        """The selected table, its rows filtered; raises with `violations` and the selector's own."""
        evaluation = None
        try:
            evaluation = self.get(tenant, name)
        except InvalidArgument as error:
            violations += error.violations
        chosen = selection(selector, evaluation, violations)
        if violations:
            raise InvalidArgument(violations)
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


def _as_dict(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _found(row, name: str):
    if row is None:
        raise NotFound(name)
    return row
