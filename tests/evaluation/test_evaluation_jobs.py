"""Evaluations as queued jobs: CreateEvaluation returns at once, workers of any replica
compute, WatchEvaluation replays and follows the numbered events, and a lost worker's
evaluation is finished by another replica.

The evaluation service of this module's stack runs no workers of its own: each test
starts the pools ("replicas' workers") it needs, so it decides who computes what.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from services.evaluation import execution
from services.evaluation import repository as repo
from services.evaluation.server import EvaluationServer
from services.evaluation.worker import EvaluationWorkers
from tests.evaluation.helpers import FinishedRun, finished_evaluation, watch_evaluation
from tests.plugin import EvaluationStack, make_config, running_evaluation_stack
from tsforge.core.channels import client_channel
from tsforge.core.storage import LocalObjectStore
from tsforge.core.timestamps import utc_now
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb
from tsforge.evaluation.v1 import evaluation_service_pb2_grpc as pb_grpc

QUEUED, COMPUTING = er.EVALUATION_STATE_QUEUED, er.EVALUATION_STATE_COMPUTING
READY, FAILED = er.EVALUATION_STATE_READY, er.EVALUATION_STATE_FAILED


@pytest.fixture(scope="module")
def stack(db, database_url, tmp_path_factory) -> Iterator[EvaluationStack]:
    store = LocalObjectStore(tmp_path_factory.mktemp("data") / "objects")
    with running_evaluation_stack(db, database_url, store, evaluation_workers="0") as running:
        yield running


@pytest.fixture
def pools() -> Iterator[list]:
    """The worker pools a test starts (pools.append(start_pool(...))), stopped after it."""
    started: list[EvaluationWorkers] = []
    yield started
    for pool in started:
        pool.stop()


def start_pool(db, database_url, training, count: int = 1) -> EvaluationWorkers:
    return EvaluationWorkers(db, database_url, training, count, lost_after_seconds=30)


def create(stack, finished: FinishedRun, season: int, stub=None) -> er.Evaluation:
    """A new identity per season: its own evaluation."""
    request = pb.CreateEvaluationRequest(
        evaluation=er.Evaluation(run=finished.run.name, options=er.EvaluationOptions(seasons=[season]))
    )
    return (stub or stack.stub).CreateEvaluation(request, metadata=finished.tenant.metadata).evaluation


def states(events: list[er.EvaluationEvent]) -> list[int]:
    return [e.state_change.state for e in events if e.WhichOneof("event") == "state_change"]


def assert_numbered(events: list[er.EvaluationEvent], first: int = 1) -> None:
    assert [e.sequence for e in events] == list(range(first, first + len(events)))


def test_create_returns_queued_and_a_worker_computes_it_with_events_in_order(stack, db, database_url, finished, pools):
    started = time.perf_counter()
    queued = create(stack, finished, 5)
    assert queued.state == QUEUED and not queued.overall_tables and not queued.HasField("start_time")
    assert list(queued.models) == [m.name for m in finished.run.models]  # what it will evaluate
    assert time.perf_counter() - started < 5  # nothing computes on the RPC thread (no worker runs yet)

    request = pb.WatchEvaluationRequest(name=queued.name)
    stream = stack.stub.WatchEvaluation(request, metadata=finished.tenant.metadata, timeout=120)
    live = [next(stream).event]  # QUEUED, replayed; now the stream waits for more
    assert live[0].state_change.state == QUEUED
    pools.append(start_pool(db, database_url, stack.server.training))  # a worker starts: the rest arrives live
    live += [response.event for response in stream]

    assert_numbered(live)
    assert states(live) == [QUEUED, COMPUTING, READY]
    assert live[0].state_change.state == QUEUED and live[1].state_change.state == COMPUTING
    progress = [e.progress for e in live if e.WhichOneof("event") == "progress"]
    total = progress[0].total
    # The training split once, 3 models x 2 splits, the comparison and 4 split-unit tables, storing.
    assert total == 1 + 3 * 2 + 1 + 4 + 1 and {p.total for p in progress} == {total}
    assert [p.done for p in progress] == list(range(0, total + 1))
    stages = [p.stage for p in progress]
    assert stages == ["reading predictions"] * 8 + ["computing tables"] * 5 + ["storing"]
    assert {p.model for p in progress if p.model} == {m.name for m in finished.run.models}
    assert all(p.HasField("eta") for p in progress[1:])
    assert [e.time.ToDatetime() for e in live] == sorted(e.time.ToDatetime() for e in live)

    ready = stack.stub.GetEvaluation(pb.GetEvaluationRequest(name=queued.name), metadata=finished.tenant.metadata)
    ready = ready.evaluation
    assert ready.state == READY and len(ready.overall_tables) == 4
    assert queued.create_time.ToDatetime() <= ready.start_time.ToDatetime() <= ready.end_time.ToDatetime()

    # Replays: everything from 0, the tail after any sequence, nothing (at once) after the last.
    assert watch_evaluation(stack.stub, finished.tenant, queued.name) == live
    assert watch_evaluation(stack.stub, finished.tenant, queued.name, after=5) == live[5:]
    started = time.perf_counter()
    assert watch_evaluation(stack.stub, finished.tenant, queued.name, after=live[-1].sequence) == []
    assert time.perf_counter() - started < 2
    # Asking again returns the stored evaluation, computed once.
    assert create(stack, finished, 5) == ready


def test_concurrent_creates_of_one_identity_on_two_replicas_compute_once(stack, db, database_url, finished, pools):
    config = make_config(training_address=stack.training.address, evaluation_workers="0")
    replica = EvaluationServer(config, db, stack.store, "127.0.0.1:0", database_url)
    channel = client_channel(f"127.0.0.1:{replica.port}")
    try:
        stubs = [stack.stub, pb_grpc.EvaluationServiceStub(channel)]
        with ThreadPoolExecutor(8) as executor:
            created = list(executor.map(lambda i: create(stack, finished, 7, stubs[i % 2]), range(8)))
        assert len({e.name for e in created}) == 1 and {e.state for e in created} == {QUEUED}
        # Both replicas' workers race for it; one claims it.
        pools.append(start_pool(db, database_url, stack.server.training, count=2))
        pools.append(start_pool(db, database_url, replica.training, count=2))
        events = watch_evaluation(stubs[1], finished.tenant, created[0].name)
        assert_numbered(events)
        assert states(events) == [QUEUED, COMPUTING, READY]
        with db.transaction() as session:
            assert repo.get(session, finished.tenant.name, created[0].name.split("/")[1]).attempt_count == 1
    finally:
        channel.close()
        replica.stop(grace=0)


class Stalling:
    """The training source, but reading predictions waits until `go` is set."""

    def __init__(self, training):
        self._training = training
        self.go = threading.Event()
        self.reading = threading.Event()

    def __getattr__(self, name):
        return getattr(self._training, name)

    def read_predictions(self, *args, **kwargs):
        self.reading.set()
        self.go.wait(timeout=60)
        return self._training.read_predictions(*args, **kwargs)


def test_a_stopping_replica_gives_its_evaluation_back_and_another_finishes_it(stack, db, database_url, finished, pools):
    queued = create(stack, finished, 9)
    stalling = Stalling(stack.server.training)
    first = start_pool(db, database_url, stalling)
    assert stalling.reading.wait(timeout=30)  # claimed and computing, stuck reading
    first.stop()  # the service stops mid-computation
    stalling.go.set()  # the old computation goes on but may write nothing more
    pools.append(start_pool(db, database_url, stack.server.training))
    events = watch_evaluation(stack.stub, finished.tenant, queued.name)

    assert_numbered(events)
    assert states(events) == [QUEUED, COMPUTING, QUEUED, COMPUTING, READY]
    changes = [e for e in events if e.WhichOneof("event") == "state_change"]
    assert changes[2].state_change.reason == f"its worker {first.pool_id}/0 stopped"
    between = events[events.index(changes[2]) + 1 : events.index(changes[3])]
    assert between == []  # the stopped worker wrote nothing after it gave the evaluation back
    evaluation = finished_evaluation(stack.stub, finished.tenant, queued.name)
    assert evaluation.state == READY and len(evaluation.overall_tables) == 4


def _claim_as_dead_worker(db, evaluation: er.Evaluation) -> None:
    """Claims the evaluation as a worker that died at once: its last heartbeat a minute ago."""
    with db.transaction() as session:
        claim = repo.claim_next(session, "dead-host:1:abc/0", utc_now() - timedelta(minutes=1))
    assert claim is not None and claim.evaluation_id == evaluation.name.split("/")[1]


def test_a_killed_workers_evaluation_is_queued_again_by_a_janitor_and_failed_after_three_tries(
    stack, db, database_url, finished, pools
):
    queued = create(stack, finished, 11)
    for attempt in range(1, execution.MAX_ATTEMPTS + 1):
        _claim_as_dead_worker(db, queued)
        execution.requeue_lost(db, lost_after_seconds=30)  # any replica's janitor (the service's may be first)
        with db.transaction() as session:
            row = repo.get(session, finished.tenant.name, queued.name.split("/")[1])
        assert (row.state, row.attempt_count) == (QUEUED if attempt < execution.MAX_ATTEMPTS else FAILED, attempt)
    events = watch_evaluation(stack.stub, finished.tenant, queued.name)
    assert states(events) == [QUEUED] + [COMPUTING, QUEUED] * 2 + [COMPUTING, FAILED]
    reasons = [e.state_change.reason for e in events if e.WhichOneof("event") == "state_change"]
    assert reasons[2].startswith("worker lost: dead-host:1:abc/0 stopped heartbeating at ")
    assert reasons[2].endswith("; queued again") and reasons[-1].endswith("after 3 attempts")
    failed = finished_evaluation(stack.stub, finished.tenant, queued.name)
    assert failed.state == FAILED and "worker lost" in failed.failure_reason

    # A lost worker is a passing failure: asking again queues it again, and a live worker finishes it.
    again = create(stack, finished, 11)
    assert again.name == queued.name and again.state == QUEUED and not again.failure_reason
    pools.append(start_pool(db, database_url, stack.server.training))
    more = watch_evaluation(stack.stub, finished.tenant, queued.name, after=events[-1].sequence)
    assert_numbered(more, events[-1].sequence + 1)
    assert states(more) == [QUEUED, COMPUTING, READY]
    assert more[0].state_change.reason == "asked for again after a passing failure"
    # Watching from the start now follows the whole history to READY, past the old FAILED.
    assert states(watch_evaluation(stack.stub, finished.tenant, queued.name)) == states(events) + states(more)
