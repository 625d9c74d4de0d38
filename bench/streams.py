"""Open streams must cost no thread: unary latency of one tenant while other tenants hold
0, 100 and 1,000 waiting WatchDatasetBuild streams on the same training service.

Upload and training services run in the bench process (grpc.aio, 8 pool threads, as a
small replica), no worker, so every build stays QUEUED and its watch waits. The other
tenants open their streams over 10 channels (100 per tenant, the per-tenant limit);
each stream has received its first event before timing starts, so it is served and
waiting. Measured: GetSession p50/p99 of a tenant with no stream, over a channel of its
own. Goal: p99 with 1,000 open streams within 3x of the idle p99.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

P99_GOAL_RATIO = 3.0
STREAMS_PER_TENANT = 100


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run(quick: bool) -> list[dict]:
    from bench.harness import temporary_database
    from tests.plugin import new_tenant, running_training_stack
    from tests.training.helpers import create_session, small_spec, upload_pair
    from tsforge.core.channels import client_channel
    from tsforge.core.db import Database
    from tsforge.core.storage import LocalObjectStore
    from tsforge.training.v1 import training_service_pb2 as pb
    from tsforge.training.v1 import training_service_pb2_grpc as pb_grpc

    calls = 200 if quick else 600
    counts = (0, 100, 1000)
    rows: list[dict] = []
    with temporary_database() as database_url, tempfile.TemporaryDirectory(prefix="tsforge-bench-streams-") as tmp:
        db = Database(database_url)
        store = LocalObjectStore(Path(tmp) / "objects")
        with running_training_stack(
            db, database_url, store, workers=0, server_threads="8", log_level="WARNING"
        ) as stack:
            probe = new_tenant()
            session = create_session(stack.stub, probe, small_spec(*upload_pair(stack.upload.stub, probe, hours=48)))
            probe_stub = pb_grpc.TrainingServiceStub(client_channel(stack.address))
            request = pb.GetSessionRequest(name=session.name)
            channels = [client_channel(stack.address) for _ in range(10)]
            streams: list = []
            latencies: dict[int, list[float]] = {}
            try:
                for count in counts:
                    while len(streams) < count:
                        tenant = new_tenant()
                        own = create_session(
                            stack.stub, tenant, small_spec(*upload_pair(stack.upload.stub, tenant, hours=48))
                        )
                        dataset = stack.stub.BuildDataset(
                            pb.BuildDatasetRequest(parent=own.name), metadata=tenant.metadata
                        ).dataset
                        stub = pb_grpc.TrainingServiceStub(channels[len(streams) // STREAMS_PER_TENANT % 10])
                        for _ in range(STREAMS_PER_TENANT):
                            call = stub.WatchDatasetBuild(
                                pb.WatchDatasetBuildRequest(name=dataset.name), metadata=tenant.metadata, timeout=900
                            )
                            next(call)  # served, now waiting
                            streams.append(call)
                    for _ in range(20):  # warm-up
                        probe_stub.GetSession(request, metadata=probe.metadata)
                    measured = []
                    for _ in range(calls):
                        started = time.perf_counter()
                        probe_stub.GetSession(request, metadata=probe.metadata, timeout=30)
                        measured.append((time.perf_counter() - started) * 1000)
                    latencies[count] = measured
            finally:
                for call in streams:
                    call.cancel()
                for channel in channels:
                    channel.close()
        db.dispose()
    idle_p99 = _percentile(latencies[0], 99)
    for count in counts:
        p50, p99 = statistics.median(latencies[count]), _percentile(latencies[count], 99)
        ratio = p99 / idle_p99
        goal = count == max(counts)
        rows.append(
            dict(
                benchmark=f"streams: GetSession of another tenant with {count} open watch streams ({calls} calls)",
                measured=f"p50 {p50:.2f} ms, p99 {p99:.2f} ms",
                baseline=f"idle p99 {idle_p99:.2f} ms",
                ratio=f"{ratio:.2f}",
                goal=f"p99 ≤ {P99_GOAL_RATIO:.0f} × idle" if goal else "(info)",
                met=("yes" if ratio <= P99_GOAL_RATIO else "NO") if goal else "",
            )
        )
    return rows
