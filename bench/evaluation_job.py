"""An evaluation through the platform: how long CreateEvaluation holds its caller, and
how long an evaluation takes until its READY event reaches a WatchEvaluation client.

Everything runs in this process (upload, training with one spawned worker, evaluation),
over a local object store; clients use real gRPC channels. Each timed evaluation is a
new identity (another extra season), so each one is computed.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.harness import temporary_database

QUICK = {"days": 30, "evaluations": 3}
FULL = {"days": 365, "evaluations": 5}


def run(quick: bool) -> list[dict]:
    """The evaluation-job rows, with bench.__main__.Row's fields."""
    from tests.models.helpers import LINEAR
    from tests.plugin import new_tenant, running_evaluation_stack
    from tests.training.helpers import build_ready_dataset, create_session, small_spec, upload_pair, wait_for_run
    from tsforge.core.db import Database
    from tsforge.core.storage import LocalObjectStore
    from tsforge.training.v1 import training_resources_pb2 as tr
    from tsforge.training.v1 import training_service_pb2 as training_pb

    sizes = QUICK if quick else FULL
    with temporary_database() as database_url, tempfile.TemporaryDirectory(prefix="tsforge-bench-eval-") as tmp:
        db = Database(database_url)
        store = LocalObjectStore(Path(tmp) / "objects")
        try:
            with running_evaluation_stack(db, database_url, store, log_level="WARNING") as stack:
                training, tenant = stack.training, new_tenant()
                files = upload_pair(training.upload.stub, tenant, hours=24 * sizes["days"])
                session = create_session(training.stub, tenant, small_spec(*files))
                dataset = build_ready_dataset(training.stub, tenant, session)
                other = tr.ModelSpec(model_id="other", linear_regression={})
                created = training.stub.CreateRun(
                    training_pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=[LINEAR, other])),
                    metadata=tenant.metadata,
                ).run
                finished = wait_for_run(training.stub, tenant, created.name, timeout=600)
                timings = [_evaluate(stack.stub, tenant, finished.name, season) for season in _seasons(sizes)]
                stored = _evaluate(stack.stub, tenant, finished.name, _seasons(sizes)[0])
        finally:
            db.dispose()
    return _rows(sizes, timings, stored)


def _seasons(sizes: dict) -> list[int]:
    return [2 + i for i in range(sizes["evaluations"])]


def _evaluate(stub, tenant, run: str, season: int) -> dict:
    """CreateEvaluation's own time, the time until the READY event reached the watcher,
    and the service's own account (queued -> started -> ended)."""
    from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
    from tsforge.evaluation.v1 import evaluation_service_pb2 as pb

    started = time.perf_counter()
    evaluation = stub.CreateEvaluation(
        pb.CreateEvaluationRequest(evaluation=er.Evaluation(run=run, options=er.EvaluationOptions(seasons=[season]))),
        metadata=tenant.metadata,
    ).evaluation
    returned = time.perf_counter()
    events = list(
        stub.WatchEvaluation(pb.WatchEvaluationRequest(name=evaluation.name), metadata=tenant.metadata, timeout=600)
    )
    ready = time.perf_counter()
    assert events[-1].event.state_change.state == er.EVALUATION_STATE_READY, events[-1]
    done = stub.GetEvaluation(pb.GetEvaluationRequest(name=evaluation.name), metadata=tenant.metadata).evaluation
    start, end = done.start_time.ToDatetime(), done.end_time.ToDatetime()
    return {
        "create_s": returned - started,
        "ready_s": ready - started,
        "events": len(events),
        "wait_s": (start - done.create_time.ToDatetime()).total_seconds(),
        "compute_s": (end - start).total_seconds(),
    }


def _rows(sizes: dict, timings: list[dict], stored: dict) -> list[dict]:
    create = statistics.median(t["create_s"] for t in timings) * 1000
    ready = statistics.median(t["ready_s"] for t in timings)
    each = ", ".join(f"{t['create_s'] * 1000:.0f}" for t in timings)
    return [
        {
            "benchmark": f"CreateEvaluation of a new identity, 2 models, {sizes['days']} days hourly, "
            f"median of {len(timings)}",
            "measured": f"{create:.0f} ms ([{each}] ms)",
            "goal": "returns at once (queued)",
        },
        {
            "benchmark": "  CreateEvaluation -> READY at a WatchEvaluation client (the evaluation's wall time)",
            "measured": f"{ready:.2f} s, {statistics.median(t['events'] for t in timings):.0f} events",
            "goal": "(info)",
        },
        {
            "benchmark": "  of which queued (until a worker claimed it) / computing (claim -> READY)",
            "measured": f"{statistics.median(t['wait_s'] for t in timings) * 1000:.0f} ms / "
            f"{statistics.median(t['compute_s'] for t in timings):.2f} s",
            "goal": "(info)",
        },
        {
            "benchmark": "  CreateEvaluation of a stored (READY) identity",
            "measured": f"{stored['create_s'] * 1000:.1f} ms",
            "goal": "(info)",
        },
    ]


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
