"""Dataset builds and runs as the API sees them: queue them, read them, cancel and
watch them. Workers (worker.py) do the work; this module never imports TensorFlow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

from google.protobuf.duration_pb2 import Duration

from services.training import repository as repo
from services.training.events import EventHub
from services.training.messages import dataset_message, from_json, run_message, to_json
from services.training.rows import DatasetRow, RunRow
from tsforge.core import usage
from tsforge.core.db import Database
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, QuotaExceeded
from tsforge.core.names import parse_dataset_name, parse_name
from tsforge.core.pagination import decode_token, page_size, paginate
from tsforge.core.timestamps import utc_now
from tsforge.core.validation import display_name_problems
from tsforge.forecasting.estimators.specs import ModelKind
from tsforge.training.v1 import training_resources_pb2 as tr

TERMINAL_RUN_STATES = (tr.RUN_STATE_SUCCEEDED, tr.RUN_STATE_FAILED, tr.RUN_STATE_CANCELLED)
TERMINAL_DATASET_STATES = (tr.DATASET_STATE_READY, tr.DATASET_STATE_FAILED)
# ModelSpec's `params` field name -> tsforge.common.v1.ModelType.
MODEL_TYPES = {kind.value: kind.proto for kind in ModelKind}


class Jobs:
    def __init__(
        self,
        db: Database,
        hub: EventHub,
        max_active_runs: int,
        resolve_models: Callable[[list, int], tuple[list[tr.ModelSpec], list[FieldViolation]]],
        max_active_builds: int = 4,
        quota_bytes: int = 10 << 30,
    ):
        self._db = db
        self._quota_bytes = quota_bytes
        self._hub = hub
        self._max_active_runs = max_active_runs
        self._max_active_builds = max_active_builds
        self._resolve_models = resolve_models

    # -- datasets ------------------------------------------------------------------

    def build_dataset(
        self, tenant: str, session_id: str, gap_tolerance: Duration | None, spec: tr.DatasetSpec | None = None
    ) -> tr.Dataset:
        """Queues a build of the session's spec (or of `spec`, already checked, as the
        automatic preset derives it)."""
        if gap_tolerance is not None and gap_tolerance.ToTimedelta().total_seconds() <= 0:
            raise InvalidArgument(FieldViolation("gap_tolerance", "must be positive"))
        with self._db.transaction() as db:
            session = repo.find_session(db, tenant, session_id)
            active = repo.count_active_builds(db, tenant)
            if active >= self._max_active_builds:
                raise QuotaExceeded(
                    f"{active} dataset builds of this tenant are queued or building; the limit is "
                    f"{self._max_active_builds} (TSFORGE_TENANT_MAX_ACTIVE_BUILDS)",
                    subject="tenant:active_builds",
                )
            usage.check_room(repo.tenant_bytes(db, tenant), self._quota_bytes, "a dataset build")
            document = tr.Dataset(spec=spec if spec is not None else from_json(session.spec, tr.DatasetSpec))
            if gap_tolerance is not None:
                document.gap_tolerance.CopyFrom(gap_tolerance)
            stamp = utc_now()
            row = DatasetRow(
                id=uuid.uuid4().hex,
                tenant=tenant,
                session_id=session.id,
                document=to_json(document),
                state=tr.DATASET_STATE_QUEUED,
                create_time=stamp,
                update_time=stamp,
            )
            repo.insert_dataset(db, row)
            repo.append_event(
                db,
                "dataset",
                row.id,
                tr.DatasetBuildEvent(state_change=tr.DatasetStateChange(state=tr.DATASET_STATE_QUEUED)),
            )
            repo.announce_work(db)
            return dataset_message(row)

    def get_dataset(self, tenant: str, name: str) -> tr.Dataset:
        session_id, dataset_id = parse_dataset_name(name)
        with self._db.transaction() as db:
            return dataset_message(repo.find_dataset(db, tenant, session_id, dataset_id))

    def list_datasets(self, tenant: str, session_id: str, requested: int, token: str):
        limit = page_size(requested)
        with self._db.transaction() as db:
            repo.find_session(db, tenant, session_id)
            rows = repo.list_datasets(db, tenant, session_id, limit + 1, decode_token(token))
            page, next_token = paginate(rows, limit)
            return [dataset_message(row) for row in page], next_token

    async def watch_dataset(self, tenant: str, name: str, after: int) -> AsyncIterator[tr.DatasetBuildEvent]:
        """The build's events after `after`, then live ones until it is READY or FAILED.

        Raises InvalidArgument, NotFound (also another tenant's dataset).
        """
        session_id, dataset_id = parse_dataset_name(name)
        if after < 0:
            raise InvalidArgument(FieldViolation("after_sequence", "must not be negative"))
        await asyncio.to_thread(self._check_dataset, tenant, session_id, dataset_id)
        async for event in self._follow("dataset", dataset_id, after, tr.DatasetBuildEvent, TERMINAL_DATASET_STATES):
            yield event

    def _check_dataset(self, tenant: str, session_id: str, dataset_id: str) -> None:
        with self._db.transaction() as db:
            repo.find_dataset(db, tenant, session_id, dataset_id)

    # -- runs ----------------------------------------------------------------------

    def create_run(self, tenant: str, run: tr.Run) -> tr.Run:
        """Queues a run. Raises InvalidArgument, NotFound, FailedPrecondition, QuotaExceeded."""
        session_id, dataset_id = parse_dataset_name(run.dataset, "run.dataset")
        problems = []
        problems += display_name_problems(run.display_name, "run.display_name", required=False)
        with self._db.transaction() as db:
            dataset = repo.find_dataset(db, tenant, session_id, dataset_id)
            if dataset.state == tr.DATASET_STATE_FAILED:
                raise FailedPrecondition(f"the dataset failed to build: {dataset.failure_reason}", run.dataset)
            spec = from_json(dataset.document["spec"], tr.DatasetSpec)
            specs, model_problems = self._resolve_models(list(run.model_specs), spec.window.input_steps)
            problems += [FieldViolation(f"run.{v.field}", v.description) for v in model_problems]
            if problems:
                raise InvalidArgument(problems)
            active = repo.count_active_runs(db, tenant)
            if active >= self._max_active_runs:
                raise QuotaExceeded(
                    f"{active} runs are queued or running; the limit is {self._max_active_runs}",
                    subject="tenant:active_runs",
                )
            usage.check_room(repo.tenant_bytes(db, tenant), self._quota_bytes, "a run")
            run_id = uuid.uuid4().hex
            models = [
                tr.ModelResult(
                    name=f"runs/{run_id}/models/{s.model_id}",
                    spec=s,
                    model_type=MODEL_TYPES[s.WhichOneof("params")],
                    state=tr.MODEL_STATE_PENDING,
                )
                for s in specs
            ]
            stamp = utc_now()
            row = RunRow(
                id=run_id,
                tenant=tenant,
                session_id=session_id,
                dataset_id=dataset_id,
                display_name=run.display_name,
                models=[to_json(m) for m in models],
                state=tr.RUN_STATE_QUEUED,
                create_time=stamp,
                update_time=stamp,
            )
            repo.insert_run(db, row)
            repo.append_event(db, "run", run_id, tr.RunEvent(state_change=tr.RunStateChange(state=tr.RUN_STATE_QUEUED)))
            repo.announce_work(db)
            return run_message(row)

    def get_run(self, tenant: str, run_id: str) -> tr.Run:
        with self._db.transaction() as db:
            return run_message(repo.find_run(db, tenant, run_id))

    def list_runs(self, tenant: str, requested: int, token: str, session: str, state: int):
        limit = page_size(requested)
        with self._db.transaction() as db:
            session_id = parse_name(session, "sessions", "session") if session else ""
            rows = repo.list_runs(db, tenant, limit + 1, decode_token(token), session_id, state)
            page, next_token = paginate(rows, limit)
            return [run_message(row) for row in page], next_token

    def cancel_run(self, tenant: str, run_id: str) -> tr.Run:
        """A queued run ends CANCELLED now; a running one when its worker notices."""
        with self._db.transaction() as db:
            row = repo.find_run(db, tenant, run_id, lock=True)
            if row.state in (tr.RUN_STATE_SUCCEEDED, tr.RUN_STATE_FAILED):
                raise FailedPrecondition(f"the run has already ended ({tr.RunState.Name(row.state)})", f"runs/{run_id}")
            if row.state == tr.RUN_STATE_QUEUED:
                finish_run(db, row, tr.RUN_STATE_CANCELLED, "cancelled by user")
            elif row.state == tr.RUN_STATE_RUNNING:
                repo.update_run(db, row, cancel_requested=True, update_time=utc_now())
            return run_message(row)

    async def watch_run(self, tenant: str, run_id: str, after: int) -> AsyncIterator[tr.RunEvent]:
        """The run's events after `after`, then live ones until it ends.

        Raises InvalidArgument, NotFound (also another tenant's run).
        """
        if after < 0:
            raise InvalidArgument(FieldViolation("after_sequence", "must not be negative"))
        await asyncio.to_thread(self.get_run, tenant, run_id)
        async for event in self._follow("run", run_id, after, tr.RunEvent, TERMINAL_RUN_STATES):
            yield event

    async def _follow(self, kind: str, job_id: str, after: int, event_type, terminal_states) -> AsyncIterator:
        async for event in repo.follow_events(self._db, self._hub, kind, job_id, after, event_type, terminal_states):
            yield event


def finish_run(db, row: RunRow, state: int, reason: str = "") -> None:
    """Ends a run (and its unfinished models) in `state`, with its closing event."""
    models = [from_json(m, tr.ModelResult) for m in row.models]
    for model in models:
        if model.state in (tr.MODEL_STATE_PENDING, tr.MODEL_STATE_RUNNING):
            model.state = tr.MODEL_STATE_CANCELLED if state == tr.RUN_STATE_CANCELLED else tr.MODEL_STATE_FAILED
            if model.state == tr.MODEL_STATE_FAILED:
                model.failure_reason = reason
    stamp = utc_now()
    repo.update_run(
        db,
        row,
        models=[to_json(m) for m in models],
        state=state,
        failure_reason=reason if state == tr.RUN_STATE_FAILED else "",
        end_time=stamp,
        update_time=stamp,
    )
    repo.append_event(db, "run", row.id, tr.RunEvent(state_change=tr.RunStateChange(state=state, reason=reason)))
