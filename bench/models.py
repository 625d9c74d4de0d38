"""Model registry benchmarks: downloads against reading the same object from the store,
Predict latency (cold and warm) and batch throughput against the model's own predict,
and list / get / alias move / registration against the goals of issue 5.

Everything runs in this process: upload, training (one spawned worker), and the models
service over a local object store; clients use real gRPC channels.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp

from bench.harness import temporary_database
from tsforge.core.channels import client_channel

QUICK = {
    "cold": 3,
    "warm": 50,
    "windows": 10_000,
    "versions": 5_000,
    "registrations": 30,
    "downloads": 3,
    "batch_rounds": 3,
}
FULL = {
    "cold": 10,
    "warm": 300,
    "windows": 10_000,
    "versions": 5_000,
    "registrations": 100,
    "downloads": 5,
    "batch_rounds": 7,
}
DOWNLOAD_RATIO_GOAL = 0.7
BATCH_RATIO_GOAL = 1.3
LIST_GOAL_MS, ALIAS_GOAL_MS, GET_GOAL_MS, REGISTRATIONS_GOAL = 20, 20, 5, 100


def _ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.array(seconds) * 1000, q))


def _timed(call, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return timings


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def run(quick: bool) -> list[dict]:
    """Every models benchmark; rows with bench.__main__.Row's fields."""
    from services.models.server import ModelsServer
    from tests.models.helpers import LINEAR, register
    from tests.plugin import make_config, new_tenant, running_evaluation_stack
    from tests.training.helpers import build_ready_dataset, create_session, small_spec, upload_pair, wait_for_run
    from tsforge.core.db import Database
    from tsforge.core.storage import LocalObjectStore
    from tsforge.models.v1 import models_service_pb2_grpc as pb_grpc
    from tsforge.training.v1 import training_resources_pb2 as tr
    from tsforge.training.v1 import training_service_pb2 as training_pb

    sizes = QUICK if quick else FULL
    rows: list[dict] = []
    with temporary_database() as database_url, tempfile.TemporaryDirectory(prefix="tsforge-bench-models-") as tmp:
        db = Database(database_url)
        store = LocalObjectStore(Path(tmp) / "objects")
        # The evaluation service is there because every registration asks it for the
        # model's metrics.
        with running_evaluation_stack(db, database_url, store, log_level="WARNING") as evaluation:
            training = evaluation.training
            config = make_config(
                upload_address=training.upload.address,
                training_address=training.address,
                evaluation_address=evaluation.address,
                log_level="WARNING",
            )
            server = ModelsServer(config, db, store, "127.0.0.1:0")
            channel = client_channel(f"127.0.0.1:{server.port}")
            stub = pb_grpc.ModelsServiceStub(channel)
            try:
                tenant = new_tenant()
                files = upload_pair(training.upload.stub, tenant, hours=24 * 30)
                session = create_session(training.stub, tenant, small_spec(*files))
                dataset = build_ready_dataset(training.stub, tenant, session)
                big = tr.ModelSpec(
                    model_id="big",
                    seed=1,
                    dense=tr.DenseParams(neural=tr.NeuralParams(layers=3, units=1024, epochs=1, batch_size=64)),
                )
                run_ = training.stub.CreateRun(
                    training_pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=[big, LINEAR])),
                    metadata=tenant.metadata,
                ).run
                run_ = wait_for_run(training.stub, tenant, run_.name, timeout=600)
                source = f"{run_.name}/models/big"
                version = register(stub, tenant, "bench", source)

                rows += _download(stub, tenant, store, version, sizes["downloads"], "a page-cached local directory")
                rows += _s3_download(config, db, store, stub, tenant, version, sizes["downloads"], Path(tmp))
                rows += _predict(stub, tenant, server, source, sizes)
                rows += _registry(stub, tenant, server, f"{run_.name}/models/linear", sizes)
                rows += _registrations_in_own_process(
                    database_url,
                    Path(tmp),
                    tenant,
                    f"{run_.name}/models/linear",
                    sizes["registrations"],
                    {"upload": training.upload.address, "training": training.address, "evaluation": evaluation.address},
                )
            finally:
                channel.close()
                server.stop(grace=0)
        db.dispose()
    return rows


def _s3_download(config, db, local_store, stub, tenant, version, repeats: int, folder: Path) -> list[dict]:
    """The same version's bundle served by a second models service whose store is a moto
    S3 server process (the version's row is shared; its objects are copied there)."""
    from bench.harness import moto_s3
    from services.models.server import ModelsServer
    from tsforge.models.v1 import models_service_pb2_grpc as pb_grpc

    with moto_s3(folder) as spec:
        s3 = spec.open()
        s3.put(version.bundle.key, local_store.read(version.bundle.key))
        server = ModelsServer(config, db, s3, "127.0.0.1:0")
        channel = client_channel(f"127.0.0.1:{server.port}")
        try:
            return _download(pb_grpc.ModelsServiceStub(channel), tenant, s3, version, repeats, "moto S3 server")
        finally:
            channel.close()
            server.stop(grace=0)


def _download(stub, tenant, store, version, repeats: int, where: str) -> list[dict]:
    from tsforge.models.v1 import models_service_pb2 as pb

    size = version.bundle.size_bytes

    def via_rpc():
        for _ in stub.DownloadModelVersion(pb.DownloadModelVersionRequest(name=version.name), metadata=tenant.metadata):
            pass

    def from_store():
        for _ in store.read(version.bundle.key):
            pass

    rpc, direct = [], []
    for _ in range(repeats):
        rpc += _timed(via_rpc, 1)
        direct += _timed(from_store, 1)
    mib = size / (1 << 20)
    rpc_speed, store_speed = mib / statistics.median(rpc), mib / statistics.median(direct)
    ratio = rpc_speed / store_speed
    ceiling = mib / statistics.median(_bare_grpc_stream(size, repeats))
    return [
        dict(
            benchmark=f"models: DownloadModelVersion BUNDLE, {mib:.1f} MiB, {where}, median of {repeats}",
            measured=f"{rpc_speed:.0f} MiB/s",
            baseline=f"{store_speed:.0f} MiB/s store.read",
            ratio=f"{ratio:.2f}",
            goal=f">= {DOWNLOAD_RATIO_GOAL}",
            met=_yes(ratio >= DOWNLOAD_RATIO_GOAL),
        ),
        dict(
            benchmark="  bare gRPC: the same bytes from memory, pre-serialised 1 MiB messages",
            measured=f"{ceiling:.0f} MiB/s",
            baseline=f"{store_speed:.0f} MiB/s store.read",
            ratio=f"{ceiling / store_speed:.2f}",
            goal="(info)",
        ),
    ]


def _bare_grpc_stream(size: int, repeats: int) -> list[float]:
    """Seconds a do-nothing Python gRPC server (in this process, like the models service)
    takes to stream `size` bytes to a client in the messages the download sends: what
    the transport allows here, with no store, no protobuf work and no auth."""
    from concurrent import futures

    import grpc

    from services.models.artifacts import CHUNK_BYTES
    from tsforge.models.v1 import models_service_pb2 as pb

    message = pb.DownloadModelVersionResponse(chunk=bytes(CHUNK_BYTES)).SerializeToString()
    count = -(-size // CHUNK_BYTES)

    def stream(_request, _context):
        for _ in range(count):
            yield message

    handler = grpc.method_handlers_generic_handler(
        "bench.Bare",
        {"Stream": grpc.unary_stream_rpc_method_handler(stream, request_deserializer=bytes, response_serializer=bytes)},
    )
    server = grpc.server(futures.ThreadPoolExecutor(4))
    server.add_generic_rpc_handlers([handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with client_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_stream(
                "/bench.Bare/Stream",
                request_serializer=bytes,
                response_deserializer=pb.DownloadModelVersionResponse.FromString,
            )
            return [_timed(lambda: sum(len(m.chunk) for m in call(b"")), 1)[0] for _ in range(repeats + 1)][1:]
    finally:
        server.stop(grace=0)


def _series(hours: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(hours)
    return (
        np.datetime64("2024-01-01T00:00", "s") + t * np.timedelta64(3600, "s"),
        np.round(10 + 5 * np.sin(2 * np.pi * t / 24), 4),
    )


def _inline(times, values):
    from tsforge.models.v1 import models_service_pb2 as pb

    return pb.InlineInputs(
        series=[
            pb.InlineSeries(
                feature="temperature",
                values=values.tolist(),
                times=[Timestamp(seconds=int(s)) for s in times.astype(np.int64)],
            )
        ]
    )


def _predict(stub, tenant, server, source: str, sizes: dict) -> list[dict]:
    from tests.models.helpers import register
    from tsforge.forecasting.protos import calendar_spec, feature_spec, scalers_from_protos
    from tsforge.forecasting.windowing import Feature, Series, WindowSpec, input_windows
    from tsforge.models.v1 import models_resources_pb2 as mr
    from tsforge.models.v1 import models_service_pb2 as pb

    times, values = _series(48)
    one = _inline(times, values)
    cold = []
    for _ in range(sizes["cold"]):
        name = register(stub, tenant, f"cold-{uuid.uuid4().hex[:8]}", source).name
        cold += _timed(
            lambda name=name: stub.Predict(pb.PredictRequest(name=name, series=one), metadata=tenant.metadata), 1
        )
    warm = _timed(
        lambda: stub.Predict(pb.PredictRequest(name=name, series=one), metadata=tenant.metadata), sizes["warm"]
    )
    rows = [
        dict(
            benchmark=f"models: Predict one window, cold (load from the store), {len(cold)} versions",
            measured=f"p50 {_ms(cold, 50):.0f} ms, p99 {_ms(cold, 99):.0f} ms",
            goal="(info)",
        ),
        dict(
            benchmark=f"models: Predict one window, warm (cached model), {len(warm)} calls",
            measured=f"p50 {_ms(warm, 50):.1f} ms, p99 {_ms(warm, 99):.1f} ms",
            goal="(info)",
        ),
    ]

    count = sizes["windows"]
    times, values = _series(count + 24)
    references = times[12 : 12 + count]
    request = pb.PredictRequest(
        name=name,
        series=_inline(times, values),
        reference_times=[Timestamp(seconds=int(s)) for s in references.astype(np.int64)],
    )
    stub.Predict(request, metadata=tenant.metadata)
    rounds = sizes["batch_rounds"]
    # Baseline: the same model's own predict on the same (scaled) windows, in this process.
    version = server.registry.resolve(
        tenant.name, __import__("services.models.names", fromlist=["x"]).parse_version(name)
    )
    lineage = mr.ModelLineage.FromString(version.lineage)
    spec = lineage.dataset_spec

    X = input_windows(
        [Feature(feature_spec(spec.inputs[0]), Series(times.astype("datetime64[ns]"), values))],
        WindowSpec(6, 3, 60),
        references.astype("datetime64[ns]").astype(np.int64),
        calendar=calendar_spec(spec.calendar),
    )
    scalers_from_protos(lineage.scalers).transform_inputs(X, copy=False)
    predictor = server.cache.get(version.storage_prefix, lambda: None).predictor
    # Alternate the two so that a noisy stretch of the machine hits both; medians.
    rpc, bare = [], []
    for _ in range(rounds):
        rpc += _timed(lambda: stub.Predict(request, metadata=tenant.metadata), 1)
        bare += _timed(lambda: predictor.predict(X), 1)
    ratio = statistics.median(rpc) / statistics.median(bare)
    rows.append(
        dict(
            benchmark=f"models: Predict {count:,} windows in one call (Dense 3x1024) vs model.predict, "
            f"median of {rounds} alternating",
            measured=f"{statistics.median(rpc):.3f} s",
            baseline=f"{statistics.median(bare):.3f} s",
            ratio=f"{ratio:.2f}",
            goal=f"<= {BATCH_RATIO_GOAL}",
            met=_yes(ratio <= BATCH_RATIO_GOAL),
        )
    )
    return rows


def _registry(stub, tenant, server, linear_source: str, sizes: dict) -> list[dict]:
    from tests.models.test_registry import _fake_version
    from tsforge.models.v1 import models_service_pb2 as pb

    count = sizes["versions"]
    server.repository.register_many(tenant.name, "many", "", [_fake_version() for _ in range(count)])
    parent = "registeredModels/many"
    listing = pb.ListModelVersionsRequest(parent=parent)
    stub.ListModelVersions(listing, metadata=tenant.metadata)
    listed = _timed(lambda: stub.ListModelVersions(listing, metadata=tenant.metadata), 50)
    get = pb.GetModelVersionRequest(name=f"{parent}/versions/{count // 2}")
    got = _timed(lambda: stub.GetModelVersion(get, metadata=tenant.metadata), 200)
    moves = iter(range(10**9))
    moved = _timed(
        lambda: stub.SetAlias(
            pb.SetAliasRequest(name=parent, alias="production", version=next(moves) % count + 1),
            metadata=tenant.metadata,
        ),
        200,
    )
    n = sizes["registrations"]
    rate = _registration_rate(stub, tenant, "rate", linear_source, n)
    p50 = _ms(listed, 50)
    return [
        dict(
            benchmark=f"models: ListModelVersions first page (50) of {count:,} versions",
            measured=f"p50 {p50:.1f} ms, p99 {_ms(listed, 99):.1f} ms",
            baseline="MLflow search 551 ms (issue)",
            goal=f"<= {LIST_GOAL_MS} ms",
            met=_yes(p50 <= LIST_GOAL_MS),
        ),
        dict(
            benchmark="models: GetModelVersion (client round trip)",
            measured=f"p50 {_ms(got, 50):.1f} ms, p99 {_ms(got, 99):.1f} ms",
            baseline="MLflow 10 ms (issue)",
            goal=f"<= {GET_GOAL_MS} ms",
            met=_yes(_ms(got, 50) <= GET_GOAL_MS),
        ),
        dict(
            benchmark="models: SetAlias move (client round trip)",
            measured=f"p50 {_ms(moved, 50):.1f} ms, p99 {_ms(moved, 99):.1f} ms",
            baseline="MLflow 108 ms (issue)",
            goal=f"<= {ALIAS_GOAL_MS} ms",
            met=_yes(_ms(moved, 50) <= ALIAS_GOAL_MS),
        ),
        _registration_row(f"{n} linear models, 8 clients, every service in this one process (as `tsforge up`)", rate),
    ]


def _registration_rate(stub, tenant, model: str, source: str, count: int) -> float:
    """Registrations per second of `count` versions of `source` by 8 clients (after one)."""
    from tests.models.helpers import register

    register(stub, tenant, model, source)
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: register(stub, tenant, model, source), range(count)))
    return count / (time.perf_counter() - started)


def _registration_row(what: str, rate: float) -> dict:
    return dict(
        benchmark=f"models: RegisterModelVersion, {what}",
        measured=f"{rate:.0f} /s",
        baseline="MLflow ~15 /s (issue)",
        goal=f">= {REGISTRATIONS_GOAL} /s",
        met=_yes(rate >= REGISTRATIONS_GOAL),
    )


def _registrations_in_own_process(
    database_url: str, folder: Path, tenant, source: str, count: int, addresses: dict[str, str]
) -> list[dict]:
    """The same registrations against a models service in a process of its own, as it is
    deployed: its work then does not share this process's GIL with the other services
    and the clients (which stay here)."""
    from bench.harness import StoreSpec, service_process
    from tests.plugin import JWT_SECRET
    from tsforge.models.v1 import models_service_pb2_grpc as pb_grpc

    spec = StoreSpec(local_root=folder / "objects")
    # The secret the services in this process (and the tenant's token) were made with.
    with (
        service_process(database_url, spec, folder / "models.log", "models", addresses, JWT_SECRET) as models,
        client_channel(models.address) as channel,
    ):
        rate = _registration_rate(pb_grpc.ModelsServiceStub(channel), tenant, "rate-apart", source, count)
    return [
        _registration_row(
            f"{count} linear models, 8 clients, the models service in its own process (as deployed)", rate
        )
    ]
