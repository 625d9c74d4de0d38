"""Evaluation workers: a few threads in each evaluation service process that claim
QUEUED evaluations and compute them (execution.run_evaluation).

Why threads in the service and not worker processes like training's: an evaluation
is numpy over predictions read through training's RPCs, with no TensorFlow and no
state that fork or threads would break; it ran on the RPC threads of this very process
before it was a job. Any replica's workers may take any evaluation (claims use
SELECT … FOR UPDATE SKIP LOCKED), so evaluation capacity scales with the replicas and
TSFORGE_EVALUATION_WORKERS; a replica with 0 workers serves the API only.

While computing, the pool heartbeats every evaluation it holds. One whose heartbeat
stops (the process was killed) is queued again by any replica's janitor
(execution.requeue_lost); on a graceful stop the pool queues its evaluations again itself,
so another replica takes them at once. Idle workers wake on the queue channel's NOTIFY
(one LISTEN connection per pool); the poll is a safety net.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import uuid

from services.evaluation import repository as repo
from services.evaluation.execution import run_evaluation
from services.evaluation.predictions import TrainingSource
from tsforge.core.db import Database
from tsforge.core.events import WorkSignal
from tsforge.core.periodic import Periodic
from tsforge.core.timestamps import utc_now

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 5.0
STOP_JOIN_SECONDS = 5.0


def heartbeat_seconds(lost_after_seconds: float) -> float:
    """How often the pool heartbeats: often enough that two missed beats are not a loss."""
    return min(2.0, lost_after_seconds / 3)


class EvaluationWorkers:
    """`count` worker threads claiming and computing evaluations, until stop()."""

    def __init__(
        self, db: Database, database_url: str, training: TrainingSource, count: int, lost_after_seconds: float
    ):
        self._db, self._training = db, training
        self.pool_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._held: dict[str, repo.Claim] = {}  # evaluation id -> this pool's claim on it
        self._lost: set[str] = set()  # held evaluations another worker has taken over
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._announced = threading.Event()
        self._signal = WorkSignal(database_url, repo.QUEUE_CHANNEL)
        self._listener = threading.Thread(target=self._listen, name="evaluation-queue", daemon=True)
        self._threads = [
            threading.Thread(
                target=self._work, args=(f"{self.pool_id}/{i}",), name=f"evaluation-worker-{i}", daemon=True
            )
            for i in range(count)
        ]
        self._listener.start()
        for thread in self._threads:
            thread.start()
        self._heartbeat = Periodic("evaluation-heartbeat", heartbeat_seconds(lost_after_seconds), self._beat)
        log.info("%d evaluation workers started (%s)", count, self.pool_id)

    def held(self) -> list[repo.Claim]:
        """The claims this pool holds now."""
        with self._lock:
            return list(self._held.values())

    def _listen(self) -> None:
        while not self._stopping.is_set():
            if self._signal.wait(1.0):
                self._announced.set()

    def _work(self, worker_id: str) -> None:
        while not self._stopping.is_set():
            try:
                claim = self._claim(worker_id)
            except Exception:  # the database away: try again in a moment
                log.warning("claiming an evaluation failed", exc_info=True)
                self._stopping.wait(1.0)
                continue
            if claim is None:
                self._announced.wait(IDLE_POLL_SECONDS)
                self._announced.clear()
                continue
            try:
                run_evaluation(self._db, self._training, claim, functools.partial(self._alive, claim))
            except Exception:
                log.exception("evaluation %s: the worker failed", claim.evaluation_id)
            finally:
                with self._lock:
                    self._held.pop(claim.evaluation_id, None)
                    self._lost.discard(claim.evaluation_id)
            if self._stopping.is_set():
                self._release(claim)  # claimed as stop() began: not among those it gave back

    def _release(self, claim: repo.Claim) -> None:
        """Queues the claim's evaluation again, if the claim still holds it."""
        try:
            with self._db.transaction() as session:
                released = repo.release(session, claim, f"its worker {claim.worker_id} stopped", utc_now())
            if released:
                log.info("queued evaluation %s again: this service is stopping", claim.evaluation_id)
        except Exception:  # the janitor of another replica will find it
            log.warning("could not queue evaluation %s again", claim.evaluation_id, exc_info=True)

    def _claim(self, worker_id: str) -> repo.Claim | None:
        with self._db.transaction() as session:
            claim = repo.claim_next(session, worker_id, utc_now())
        if claim is not None:
            with self._lock:
                self._held[claim.evaluation_id] = claim
        return claim

    def _alive(self, claim: repo.Claim) -> bool:
        with self._lock:
            return not self._stopping.is_set() and claim.evaluation_id not in self._lost

    def _beat(self) -> None:
        claims = self.held()
        if not claims:
            return
        with self._db.transaction() as session:
            still = repo.heartbeat(session, claims, utc_now())
        with self._lock:
            self._lost |= {claim.evaluation_id for claim in claims} - still

    def stop(self) -> None:
        """Stops claiming, queues the evaluations still computing here again (another
        replica takes them at once), and lets the threads go."""
        self._stopping.set()
        self._announced.set()
        self._heartbeat.stop()
        for claim in self.held():
            self._release(claim)
        for thread in (*self._threads, self._listener):
            thread.join(STOP_JOIN_SECONDS / (len(self._threads) + 1))
        self._signal.close()
