"""Training workers: processes that claim dataset builds and runs from the queue and
do the work. Started with the `spawn` method (gRPC and TensorFlow do not survive
fork); each creates its own database engine, store and channels."""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping

from services.training import queue
from services.training.events import WorkSignal
from services.training.rows import DatasetRow
from tsforge.core.backends import open_store
from tsforge.core.clients import UploadClient
from tsforge.core.config import Config, load_config
from tsforge.core.db import Database
from tsforge.core.logs import configure_logging
from tsforge.core.storage import ObjectStore

log = logging.getLogger(__name__)

# Idle workers wake on the queue channel's NOTIFY; this poll is only the safety net.
IDLE_POLL_SECONDS = 5.0
JANITOR_SECONDS = 5.0


class Heartbeat:
    """Heartbeats a job from a thread; `alive` turns False when the job must stop
    (cancelled, deleted, or taken from this worker)."""

    def __init__(self, db: Database, kind: str, job_id: str, worker_id: str, interval: float):
        self._args = (db, kind, job_id, worker_id)
        self._interval = interval
        self.alive = True
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._done.wait(self._interval):
            try:
                self.alive = queue.heartbeat(*self._args) and self.alive
            except Exception:  # a database hiccup: try again next beat
                log.warning("heartbeat failed", exc_info=True)

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()


class Worker:
    """One worker's loop: janitor duty, then the next dataset build, then the next run."""

    def __init__(self, config: Config, db: Database, store: ObjectStore, uploads: UploadClient, worker_id: str):
        self.config, self.db, self.store, self.uploads = config, db, store, uploads
        self.worker_id = worker_id
        self._last_janitor = 0.0
        self._runtime_ready = False

    def _prepare_runtime(self) -> None:
        """Sizes TensorFlow's thread pools, once, before the first model trains."""
        if self._runtime_ready:
            return
        from tsforge.forecasting.estimators.keras_models import configure_runtime

        workers = max(1, self.config.training_workers)
        configure_runtime(self.config.worker_threads or max(1, (os.cpu_count() or 1) // workers))
        self._runtime_ready = True

    def step(self) -> bool:
        """Does one job if there is one. Returns whether it did."""
        lost_after = self.config.worker_lost_seconds
        beat = queue.heartbeat_seconds(lost_after)
        if time.monotonic() - self._last_janitor > JANITOR_SECONDS:
            queue.fail_lost_jobs(self.db, lost_after, self.store)
            self._last_janitor = time.monotonic()
        # Heartbeats start right after a claim: anything slow (importing TensorFlow)
        # happens inside, so a busy worker is never taken for a lost one.
        claimed = queue.claim_next(self.db, self.worker_id)
        if claimed is None:
            return False
        kind, job = claimed
        if isinstance(job, DatasetRow):
            with Heartbeat(self.db, kind, job.id, self.worker_id, beat) as heart:
                from services.training.build import run_build

                run_build(self, job, lambda: heart.alive)
        else:
            with Heartbeat(self.db, kind, job.id, self.worker_id, beat) as heart:
                from services.training.execution import execute_run  # TensorFlow: workers only

                self._prepare_runtime()
                execute_run(self, job, lambda: heart.alive)
        return True

    def run_forever(self, stopping: Callable[[], bool], work: WorkSignal) -> None:
        while not stopping():
            try:
                if not self.step():
                    work.wait(min(IDLE_POLL_SECONDS, JANITOR_SECONDS))
            except Exception:
                log.exception("worker step failed")
                time.sleep(1)


def worker_main(env: Mapping[str, str], database_url: str, worker_number: int) -> None:
    """Entry point of a spawned worker process."""
    config = load_config(env)
    configure_logging(config.log_level, config.log_json, config.secret_values())
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    db = Database(database_url, pool_size=3)
    uploads = UploadClient(config.addresses["upload"], config.jwt_secret)
    stopping = threading.Event()
    import signal

    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us with SIGTERM
    log.info("training worker %d (%s) started", worker_number, worker_id)
    work = WorkSignal(database_url)
    try:
        Worker(config, db, open_store(config), uploads, worker_id).run_forever(stopping.is_set, work)
    finally:
        work.close()


class WorkerPool:
    """N spawned worker processes; one that dies is replaced, and all stop together."""

    RESPAWN_CHECK_SECONDS = 1.0

    def __init__(self, count: int, env: Mapping[str, str], database_url: str):
        self._context = multiprocessing.get_context("spawn")
        self._env, self._url = dict(env), database_url
        self.processes = [self._start(i) for i in range(count)]
        self._stopping = threading.Event()
        self._monitor = threading.Thread(target=self._respawn, name="worker-pool", daemon=True)
        self._monitor.start()

    def _start(self, number: int):
        process = self._context.Process(
            target=worker_main, args=(self._env, self._url, number), name=f"training-worker-{number}", daemon=False
        )
        process.start()
        return process

    def _respawn(self) -> None:
        while not self._stopping.wait(self.RESPAWN_CHECK_SECONDS):
            for number, process in enumerate(self.processes):
                if not process.is_alive() and not self._stopping.is_set():
                    log.warning("training worker %d exited with %s; starting a new one", number, process.exitcode)
                    self.processes[number] = self._start(number)

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        self._monitor.join()
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker finishes its current step's bookkeeping and exits
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
