"""Computing one claimed evaluation: read the run through training, score it with
progress events, store the tables, and end READY or FAILED.

Everything it writes is conditional on its claim (repository.Claim): a worker whose
evaluation was queued again (it stopped heartbeating, or its service is stopping)
writes nothing more, so a lost worker coming back cannot overwrite another's result.

Failures: a lasting one (the predictions cannot be scored together, the run is gone or
no longer SUCCEEDED) ends FAILED for good; a passing one (a service or the database
unreachable, an unexpected error) ends FAILED retryable, and asking for the evaluation
again queues it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from google.protobuf import json_format

from services.evaluation import repository as repo
from services.evaluation.compute import (
    READING,
    ComputedEvaluation,
    Step,
    compute_evaluation,
    evaluable_models,
    plan_baselines,
    work_units,
)
from services.evaluation.messages import baseline_message, comparison_message
from services.evaluation.metrics import Metric
from services.evaluation.predictions import TrainingSource
from tsforge.core.db import Database, reconnecting
from tsforge.core.errors import DomainError, Unavailable, dependency_failure
from tsforge.core.timestamps import utc_now
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er

log = logging.getLogger(__name__)

STORING = "storing"
# Claims of one evaluation whose worker was lost before it fails (a computation that
# kills its worker every time must not be retried forever).
MAX_ATTEMPTS = 3
# Evaluations COMPUTING before they were jobs carry no heartbeat: the old code's
# own take-over time.
LEGACY_STALE = timedelta(minutes=10)


class JobLost(Exception):
    """The claim no longer holds its evaluation (queued again, or the worker stops)."""


class ProgressEvents:
    """A claim's progress events: done / total work units with an ETA from the pace so far.
    Raises JobLost when the claim lost its evaluation or `alive()` turns False."""

    def __init__(self, db: Database, claim: repo.Claim, total: int, alive: Callable[[], bool]):
        self._db, self._claim, self._alive = db, claim, alive
        self.total = total
        self.done = 0
        self._started = time.monotonic()

    def __call__(self, step: Step) -> None:
        self.done += 1
        self.emit(step.stage, step.model, step.split)

    def emit(self, stage: str, model: str = "", split: int = 0) -> None:
        if not self._alive():
            raise JobLost
        progress = er.EvaluationProgress(stage=stage, done=self.done, total=self.total, model=model, split=split)
        if self.done:
            elapsed = time.monotonic() - self._started
            progress.eta.FromTimedelta(timedelta(seconds=elapsed * (self.total - self.done) / self.done))
        with self._db.transaction() as session:
            if not repo.lock_owned(session, self._claim):
                raise JobLost
            repo.append_event(session, self._claim.evaluation_id, er.EvaluationEvent(progress=progress))


def run_evaluation(db: Database, training: TrainingSource, claim: repo.Claim, alive: Callable[[], bool]) -> None:
    """Computes and stores the claimed evaluation, ending it READY or FAILED (unless the
    claim is lost on the way: then it writes nothing more)."""
    row = claim.row
    started = time.perf_counter()
    try:
        models, dataset = evaluable_models(training, row.tenant, row.run_id, row.model)
        plan = plan_baselines(row.season_steps, row.seasons or (), Metric(row.baseline_metric), dataset)
        progress = ProgressEvents(db, claim, work_units(len(models)) + 1, alive)
        progress.emit(READING)
        computed = compute_evaluation(training, row.tenant, models, plan, progress)
        progress.done += 1
        progress.emit(STORING)
    except JobLost:
        log.info("evaluation %s was taken from this worker; leaving it", row.id)
        return
    except ValueError as error:
        # The stored predictions cannot be scored together: a lasting fact, stored.
        _fail(db, claim, str(error), retryable=False)
        return
    except Exception as error:
        _fail_on(db, claim, error)
        return
    stored = reconnecting(lambda: _store(db, claim, computed, plan.step_minutes))
    comparison = computed.comparison
    log.info(
        "evaluated %d models of run %s in %.2f s; strongest baseline %s, beaten by %d%s",
        len(computed.models),
        row.run_id,
        time.perf_counter() - started,
        comparison.best_baseline.label(plan.step_minutes) if comparison.best_baseline else "none",
        len(comparison.models_beating),
        "" if stored else " (not stored: the evaluation was taken from this worker)",
    )


def _store(db: Database, claim: repo.Claim, computed: ComputedEvaluation, step_minutes: float) -> bool:
    document = {
        "models": list(computed.models),
        "features": list(computed.features),
        "season_steps": computed.season_steps,
        "baselines": [_as_dict(baseline_message(key, step_minutes)) for key in computed.baselines],
        "baseline_comparison": _as_dict(
            comparison_message(computed.comparison, computed.comparison_units, step_minutes)
        ),
    }
    with db.transaction() as session:
        return repo.finish(session, claim, er.EVALUATION_STATE_READY, "", document, list(computed.tables), utc_now())


def _fail_on(db: Database, claim: repo.Claim, error: Exception) -> None:
    """Ends the claim FAILED for an error of the computation, told apart by kind."""
    if isinstance(error, Unavailable):
        _fail(db, claim, error.message, retryable=True)
    elif isinstance(error, DomainError):  # the run deleted meanwhile, or no longer SUCCEEDED
        _fail(db, claim, error.message, retryable=False)
    elif (outage := dependency_failure(error)) is not None:
        _fail(db, claim, outage.message, retryable=True)
    else:
        log.exception("evaluation %s failed unexpectedly", claim.evaluation_id)
        _fail(db, claim, f"internal error while computing {type(error).__name__}; ask again to retry", True)


def _fail(db: Database, claim: repo.Claim, reason: str, retryable: bool) -> None:
    row = claim.row
    document = {"models": (row.document or {}).get("models", []), "features": [], "season_steps": row.season_steps}

    def write() -> bool:
        with db.transaction() as session:
            return repo.finish(session, claim, er.EVALUATION_STATE_FAILED, reason, document, [], utc_now(), retryable)

    try:
        reconnecting(write)
    except Exception:  # the database stays away: the janitor queues it again once the heartbeat stops
        log.exception("could not record the failure of evaluation %s", row.id)
    log.info("evaluation %s failed (%s): %s", row.id, "passing" if retryable else "lasting", reason)


def requeue_lost(db: Database, lost_after_seconds: float) -> int:
    """Queues again (or fails, after MAX_ATTEMPTS) evaluations whose worker stopped
    heartbeating `lost_after_seconds` ago: the janitor of every replica calls it."""
    now = utc_now()
    with db.transaction() as session:
        count = repo.requeue_lost(
            session, now - timedelta(seconds=lost_after_seconds), now - LEGACY_STALE, MAX_ATTEMPTS, now
        )
    if count:
        log.warning("queued again %d evaluations whose worker was lost", count)
    return count


def _as_dict(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)
