"""`tsforge worker training`: workers with no server, sharing only the database and
the object store with the services, as the Kubernetes worker Deployment runs them."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.plugin import running_training_stack
from tests.training.helpers import build_ready_dataset, create_session, small_spec, upload_pair, wait_for_run
from tsforge.core.storage import LocalObjectStore
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb


def test_a_standalone_worker_process_trains_queued_runs_and_stops_on_sigterm(db, database_url, tenant, tmp_path):
    store = LocalObjectStore(tmp_path / "objects")
    with running_training_stack(db, database_url, store, workers=0) as stack:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tsforge.cli", "worker", "training", "--count", "1"],
            env={**stack.env, "TSFORGE_DATABASE_URL": database_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            session = create_session(stack.stub, tenant, small_spec(*upload_pair(stack.upload.stub, tenant, hours=72)))
            dataset = build_ready_dataset(stack.stub, tenant, session)
            run = stack.stub.CreateRun(
                pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=[tr.ModelSpec(linear_regression={})])),
                metadata=tenant.metadata,
            ).run
            assert wait_for_run(stack.stub, tenant, run.name, timeout=60).state == tr.RUN_STATE_SUCCEEDED
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                code = worker.wait(timeout=30)
            finally:
                if worker.poll() is None:
                    worker.kill()
        assert code == 0, worker.stdout.read()
