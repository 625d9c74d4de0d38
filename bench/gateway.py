"""Gateway benchmarks: what going through `tsforge gateway` costs a client, against calling
the service directly with gRPC in the same run. Loopback only.

The gateway runs as `python -m tsforge.cli gateway`, a process of its own as in
production; the upload service too (bench.service_process). The clients run in
this process.

- unary latency: GetFile of one stored file, one call at a time, the three ways
  interleaved (direct gRPC, grpc-web binary POST, REST GET /v1/files/{id}) so any drift
  hits all of them alike. Each client keeps one connection alive (grpc's channel;
  http.client for the gateway). "added" is the gateway's p50 minus the direct p50, so it
  includes the gateway's HTTP parsing, transcoding and its own gRPC hop, and also the
  difference between Python's http.client and grpc's C client in this process.
- streamed event delay: real training run events. A run of many short epochs is
  watched three ways at once, each reader on a thread of its own: WatchRun directly,
  through the gateway with grpc-web, and through it with REST (newline-delimited JSON).
  Per event, the delay it picks up through the gateway is its arrival there minus its
  arrival on the direct stream (same event, same clock, same process). Only events the
  worker writes while all three streams are open are counted (a WatchRun first replays
  what is already written, in one burst). The training stack (upload and training
  services in this process, one spawned worker) comes from the tests; a warm-up run
  imports TensorFlow in the worker first.
- throughput: 50 concurrent clients (aiohttp tasks, one pooled session; grpc.aio tasks
  on one channel for the baseline), GetFile until a request budget or a time limit is
  spent; requests per second and errors (any non-200 or non-OK grpc-status).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import re
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.csv_data import csv_chunks, csv_size
from bench.harness import (
    StoreSpec,
    service_process,
    stop_process,
    temporary_database,
    tenant_metadata,
)
from bench.upload import TENANT, upload_streaming
from tsforge.core.server import client_channel
from tsforge.upload.v1 import upload_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc

ADDED_P50_GOAL_MS = 2.0
STREAM_P99_GOAL_MS = 20.0
CONCURRENCY = 50
GET_FILE = "/tsforge.upload.v1.UploadService/GetFile"
WATCH_RUN = "/tsforge.training.v1.TrainingService/WatchRun"
_GRPC_WEB = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"}
_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Sizes:
    unary_calls: int  # per way, one at a time
    load_requests: int  # per way, across the 50 clients
    load_seconds: float  # per way, at most
    epochs: int  # of the watched run: one epoch_end event each


QUICK = Sizes(unary_calls=300, load_requests=2_000, load_seconds=10, epochs=30)
FULL = Sizes(unary_calls=3_000, load_requests=10_000, load_seconds=30, epochs=150)


def run(quick: bool) -> list[dict]:
    """Every gateway benchmark; rows with bench.__main__.Row's fields."""
    sizes = QUICK if quick else FULL
    with (
        temporary_database() as database_url,
        tempfile.TemporaryDirectory(prefix="tsforge-bench-gateway-") as temporary,
    ):
        folder = Path(temporary)
        rows = _unary_and_load(database_url, folder, sizes)
        rows += _stream_delay(database_url, folder, sizes)
    return rows


# --- the gateway process ------------------------------------------------------------


@contextlib.contextmanager
def gateway_process(upstreams: dict[str, str], log_path: Path) -> Iterator[str]:
    """`python -m tsforge.cli gateway --port 0` in front of `upstreams`; yields its base URL."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TSFORGE_")}
    env.update({f"TSFORGE_{service.upper()}_ADDRESS": address for service, address in upstreams.items()})
    env.update(
        {"TSFORGE_HOST": "127.0.0.1", "TSFORGE_LOG_LEVEL": "WARNING", "TSFORGE_LOG_JSON": "false", "COLUMNS": "200"}
    )
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tsforge.cli", "gateway", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=log
        )
    try:
        yield f"http://127.0.0.1:{_read_gateway_port(process, log_path)}"
    finally:
        stop_process(process)


def _read_gateway_port(process: subprocess.Popen[bytes], log_path: Path) -> int:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        line = process.stdout.readline() if ready else b""
        if not line:
            break
        if found := re.search(rb"gateway on http://[\d.]+:(\d+)", line):
            return int(found.group(1))
    raise RuntimeError("the gateway did not start; log:\n" + log_path.read_text(errors="replace")[-4000:])


# --- unary latency and throughput ----------------------------------------------------


def _unary_and_load(database_url: str, folder: Path, sizes: Sizes) -> list[dict]:
    _progress("gateway unary latency and 50-client throughput (GetFile)")
    metadata = tenant_metadata(TENANT)  # upload_streaming uploads as TENANT
    token = metadata[0][1]
    spec = StoreSpec(local_root=folder / "objects")
    with (
        service_process(database_url, spec, folder / "upload.log") as upload,
        client_channel(upload.address) as channel,
    ):
        stub = pb_grpc.UploadServiceStub(channel)
        file, _ = upload_streaming(stub, csv_chunks(64 << 10), csv_size(64 << 10))
        with gateway_process({"upload": upload.address}, folder / "gateway-unary.log") as base_url:
            latency = _unary_latency(stub, metadata, base_url, token, file.name, sizes.unary_calls)
            load = asyncio.run(_load(upload.address, metadata, base_url, token, file.name, sizes))
    return _unary_rows(latency, sizes.unary_calls) + _load_rows(load)


def _unary_latency(stub, metadata, base_url: str, token: str, name: str, calls: int) -> dict[str, np.ndarray]:
    host, port = base_url.removeprefix("http://").split(":")
    grpc_web = http.client.HTTPConnection(host, int(port), timeout=30)
    rest = http.client.HTTPConnection(host, int(port), timeout=30)
    body = _frame(pb.GetFileRequest(name=name).SerializeToString())
    grpc_web_headers = {**_GRPC_WEB, "authorization": token}
    rest_headers = {"authorization": token}

    def direct() -> None:
        stub.GetFile(pb.GetFileRequest(name=name), metadata=metadata, timeout=30)

    def via_grpc_web() -> None:
        grpc_web.request("POST", GET_FILE, body=body, headers=grpc_web_headers)
        response = grpc_web.getresponse()
        reply = response.read()
        if response.status != 200 or b"grpc-status:0" not in reply.replace(b" ", b""):
            raise RuntimeError(f"grpc-web GetFile failed: {response.status} {reply[-200:]!r}")

    def via_rest() -> None:
        rest.request("GET", f"/v1/{name}", headers=rest_headers)
        response = rest.getresponse()
        reply = response.read()
        if response.status != 200:
            raise RuntimeError(f"REST GetFile failed: {response.status} {reply[:200]!r}")

    ways = {"direct gRPC": direct, "grpc-web": via_grpc_web, "REST": via_rest}
    for call in ways.values():  # connections, caches, the gateway's upstream channel
        for _ in range(50):
            call()
    timings = {way: [] for way in ways}
    for _ in range(calls):
        for way, call in ways.items():
            started = time.perf_counter()
            call()
            timings[way].append(time.perf_counter() - started)
    grpc_web.close()
    rest.close()
    return {way: np.array(values) * 1000 for way, values in timings.items()}


@dataclass(frozen=True)
class Load:
    way: str
    requests: int
    errors: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


async def _load(address: str, metadata, base_url: str, token: str, name: str, sizes: Sizes) -> list[Load]:
    import aiohttp
    import grpc

    body = _frame(pb.GetFileRequest(name=name).SerializeToString())
    results = []
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, force_close=False)
    async with (
        aiohttp.ClientSession(base_url, connector=connector) as session,
        grpc.aio.insecure_channel(address) as channel,
    ):
        stub = pb_grpc.UploadServiceStub(channel)

        async def direct() -> bool:
            try:
                await stub.GetFile(pb.GetFileRequest(name=name), metadata=metadata, timeout=30)
                return True
            except grpc.aio.AioRpcError:
                return False

        async def via_grpc_web() -> bool:
            async with session.post(GET_FILE, data=body, headers={**_GRPC_WEB, "authorization": token}) as response:
                reply = await response.read()
                return response.status == 200 and b"grpc-status:0" in reply.replace(b" ", b"")

        async def via_rest() -> bool:
            async with session.get(f"/v1/{name}", headers={"authorization": token}) as response:
                await response.read()
                return response.status == 200

        for way, call in (("direct gRPC", direct), ("grpc-web", via_grpc_web), ("REST", via_rest)):
            await asyncio.gather(*(call() for _ in range(CONCURRENCY)))  # open the connections
            results.append(await _hammer(way, call, sizes.load_requests, sizes.load_seconds))
    return results


async def _hammer(way: str, call, budget: int, seconds: float) -> Load:
    """CONCURRENCY tasks calling `call` until `budget` calls were started or `seconds` passed."""
    started = time.perf_counter()
    deadline = started + seconds
    remaining = budget
    done = errors = 0

    async def client() -> None:
        nonlocal remaining, done, errors
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            try:
                ok = await call()
            except Exception:  # noqa: BLE001 (a failed request of any kind is counted, not raised)
                ok = False
            done += 1
            errors += not ok

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return Load(way, done, errors, time.perf_counter() - started)


def _unary_rows(latency: dict[str, np.ndarray], calls: int) -> list[dict]:
    direct = latency["direct gRPC"]
    d50, d99 = np.percentile(direct, [50, 99])
    rows = [
        _row(
            f"unary GetFile, direct gRPC ({calls} calls, one at a time)",
            f"p50 {d50:.2f} ms, p99 {d99:.2f} ms",
            goal="(baseline)",
        )
    ]
    for way in ("grpc-web", "REST"):
        p50, p99 = np.percentile(latency[way], [50, 99])
        added = p50 - d50
        rows.append(
            _row(
                f"unary GetFile through the gateway, {way}: added p50 (p99 {p99:.2f} ms)",
                f"+{added:.2f} ms (p50 {p50:.2f} ms)",
                f"p50 {d50:.2f} ms direct",
                f"{p50 / d50:.2f}",
                f"<= +{ADDED_P50_GOAL_MS:g} ms",
                _yes_no(added <= ADDED_P50_GOAL_MS),
            )
        )
    return rows


def _load_rows(loads: list[Load]) -> list[dict]:
    direct = loads[0]
    rows = [
        _row(
            f"GetFile at {CONCURRENCY} concurrent clients, direct gRPC (grpc.aio, {direct.requests} "
            f"requests in {direct.seconds:.1f} s)",
            f"{direct.per_second:.0f} req/s, {direct.errors} errors",
            goal="(baseline)",
        )
    ]
    for load in loads[1:]:
        rows.append(
            _row(
                f"GetFile at {CONCURRENCY} concurrent clients through the gateway, {load.way} (aiohttp, "
                f"{load.requests} requests in {load.seconds:.1f} s)",
                f"{load.per_second:.0f} req/s, {load.errors} errors",
                f"{direct.per_second:.0f} req/s",
                f"{load.per_second / direct.per_second:.2f}",
                "0 errors",
                _yes_no(load.errors == 0),
            )
        )
    return rows


# --- streamed event delay ------------------------------------------------------------


@dataclass
class _Watch:
    """Arrival times (perf_counter) of one reader's events, by sequence."""

    way: str
    arrivals: dict[int, float]
    opened: threading.Event
    error: BaseException | None = None


def _stream_delay(database_url: str, folder: Path, sizes: Sizes) -> list[dict]:
    from tests.plugin import new_tenant, running_training_stack
    from tests.training.helpers import (
        build_ready_dataset,
        create_session,
        small_spec,
        upload_pair,
        wait_for_run,
    )
    from tsforge.core.db import Database
    from tsforge.core.storage import LocalObjectStore
    from tsforge.training.v1 import training_resources_pb2 as tr
    from tsforge.training.v1 import training_service_pb2 as tpb

    _progress(f"gateway streamed event delay (WatchRun of a {sizes.epochs}-epoch run)")
    db = Database(database_url)
    tenant = new_tenant()
    try:
        with (
            running_training_stack(
                db, database_url, LocalObjectStore(folder / "training-objects"), log_level="WARNING"
            ) as training,
            gateway_process(
                {"upload": training.upload.address, "training": training.address}, folder / "gateway-stream.log"
            ) as base_url,
        ):
            stub = training.stub
            temperature, load = upload_pair(training.upload.stub, tenant, hours=400)
            dataset = build_ready_dataset(stub, tenant, create_session(stub, tenant, small_spec(temperature, load)))

            def create_run(epochs: int) -> str:
                neural = tr.NeuralParams(layers=1, units=4, batch_size=64, epochs=epochs, early_stopping_patience=2000)
                run = tr.Run(dataset=dataset.name, model_specs=[tr.ModelSpec(dense=tr.DenseParams(neural=neural))])
                return stub.CreateRun(tpb.CreateRunRequest(run=run), metadata=tenant.metadata).run.name

            wait_for_run(stub, tenant, create_run(1), timeout=300)  # the worker imports TensorFlow
            name = create_run(sizes.epochs)
            request = tpb.WatchRunRequest(name=name)
            host, port = base_url.removeprefix("http://").split(":")

            def direct(watch: _Watch) -> None:
                for reply in stub.WatchRun(request, metadata=tenant.metadata, timeout=600):
                    _arrived(watch, reply.event.sequence)

            def via_grpc_web(watch: _Watch) -> None:
                connection = http.client.HTTPConnection(host, int(port), timeout=600)
                connection.request(
                    "POST",
                    WATCH_RUN,
                    body=_frame(request.SerializeToString()),
                    headers={**_GRPC_WEB, "authorization": f"Bearer {tenant.token}"},
                )
                response = connection.getresponse()
                while True:
                    flag, length = struct.unpack(">BI", response.read(5))
                    payload = response.read(length)
                    if flag & 0x80:
                        break
                    _arrived(watch, tpb.WatchRunResponse.FromString(payload).event.sequence)
                connection.close()

            def via_rest(watch: _Watch) -> None:
                connection = http.client.HTTPConnection(host, int(port), timeout=600)
                connection.request("GET", f"/v1/{name}:watch", headers={"authorization": f"Bearer {tenant.token}"})
                response = connection.getresponse()
                while line := response.readline():
                    _arrived(watch, int(json.loads(line)["event"]["sequence"]))
                connection.close()

            watches = [_Watch(way, {}, threading.Event()) for way in ("direct", "grpc-web", "REST")]
            threads = [
                threading.Thread(target=_reader(reader, watch), daemon=True)
                for reader, watch in zip((direct, via_grpc_web, via_rest), watches)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
            for watch in watches:
                if watch.error:
                    raise RuntimeError(f"the {watch.way} WatchRun reader failed") from watch.error
            run_s = max(watches[0].arrivals.values()) - min(watches[0].arrivals.values())
    finally:
        db.dispose()
    return _stream_rows(watches, sizes.epochs, run_s)


def _reader(read, watch: _Watch):
    def target() -> None:
        try:
            read(watch)
        except BaseException as error:  # noqa: BLE001 (reported by the caller)
            watch.error = error
            watch.opened.set()

    return target


def _arrived(watch: _Watch, sequence: int) -> None:
    watch.arrivals[sequence] = time.perf_counter()
    watch.opened.set()


def _stream_rows(watches: list[_Watch], epochs: int, run_s: float) -> list[dict]:
    direct, *through = watches
    # Live events: written after every stream had delivered its first (replayed) event.
    all_open = max(min(w.arrivals.values()) for w in watches)
    live = sorted(s for s, at in direct.arrivals.items() if at > all_open + 0.001)
    rows = []
    for watch in through:
        missing = [s for s in direct.arrivals if s not in watch.arrivals]
        delays = np.array([watch.arrivals[s] - direct.arrivals[s] for s in live]) * 1000
        p50, p99, worst = np.percentile(delays, [50, 99, 100])
        rows.append(
            _row(
                f"run event delay through the gateway, {watch.way} vs direct WatchRun "
                f"({len(delays)} live events of a {epochs}-epoch run, {run_s:.1f} s; max {worst:.1f} ms"
                f"{f', {len(missing)} MISSING' if missing else ''})",
                f"p50 {p50:.2f} ms, p99 {p99:.2f} ms",
                "direct arrival",
                "-",
                f"p99 <= {STREAM_P99_GOAL_MS:g} ms",
                _yes_no(p99 <= STREAM_P99_GOAL_MS and not missing),
            )
        )
    return rows


# --- small parts ---------------------------------------------------------------------


def _frame(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


def _row(benchmark: str, measured: str, baseline: str = "-", ratio: str = "-", goal: str = "-", met: str = "") -> dict:
    return {
        "benchmark": benchmark,
        "measured": measured,
        "baseline": baseline,
        "ratio": ratio,
        "goal": goal,
        "met": met,
    }


def _yes_no(met: bool) -> str:
    return "yes" if met else "NO"


def _progress(message: str) -> None:
    print(f"bench: {message} ...", file=sys.stderr, flush=True)


if __name__ == "__main__":
    rows = run(quick="--quick" in sys.argv)
    for row in rows:
        print(" | ".join(row.values()))
