"""Training through the platform against the same Keras fit in this process, and how
fast a worker's epoch events reach a watcher.

Both use a training stack (bench.harness.training_stack): the upload and training
services in this process, one spawned worker process. Before anything is timed, the
datasets are built and one tiny warm-up run has made the worker import TensorFlow;
this process imports it too and trains a tiny model once. TensorFlow gets the same
number of threads here as in the worker (all CPUs for one worker).

- platform: from CreateRun until the run's terminal state event reaches a WatchRun
  client here. It includes the wait for a worker to claim the run (workers poll an empty
  queue every services.training.worker.IDLE_POLL_SECONDS), loading the dataset from
  the store, one event transaction per epoch and per throttled batch report, and after
  the fit: the artifact, predictions on every split into the store, the closing events.
- bare: tsforge.forecasting.estimators.trainer.train_model, as the worker calls it (same
  resolved spec and seed, early-stopping callback, artifact serialisation) with a
  reporter that does nothing, on the same arrays, read beforehand from the dataset's
  stored .npz files. Only the call is timed.
- event latency: per epoch_end event of a run with many short epochs, its arrival at a
  WatchRun client here minus its `time` field, which the worker sets when it appends the
  event (inside its transaction, so the commit, NOTIFY, the service's read and gRPC are
  all counted). Same machine, same clock.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from bench.harness import TrainingStack, tenant_metadata, training_stack
from services.training.build import dataset_prefix, load_arrays
from tsforge.common.v1 import common_pb2
from tsforge.forecasting.estimators.progress import NullReporter
from tsforge.forecasting.estimators.specs import resolve_model_specs
from tsforge.forecasting.estimators.trainer import TrainingData, train_model
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2 as upload_pb

TENANT = "bench-training"
INPUT_STEPS, OUTPUT_STEPS = 96, 24
SEED = 7
# About 1 s per epoch on 2 cores for 14,000 training samples of (96, 3).
FIT_MODEL = tr.NeuralParams(layers=2, units=64, batch_size=32, early_stopping_patience=2000)
# Epochs of a few milliseconds, so the events come as fast as a worker makes them.
TINY_MODEL = tr.NeuralParams(layers=1, units=4, batch_size=64, early_stopping_patience=2000)
TINY_HOURS = 400
_WATCH_TIMEOUT_S = 300
_TERMINAL = (tr.RUN_STATE_SUCCEEDED, tr.RUN_STATE_FAILED, tr.RUN_STATE_CANCELLED)


@dataclass(frozen=True)
class Sizes:
    samples: int  # windows in the fit dataset (70 % train, 20 % validation, 10 % test)
    epochs: int
    repeats: int  # platform and bare runs, alternating; medians are reported
    latency_epochs: int


FULL = Sizes(samples=20_000, epochs=10, repeats=3, latency_epochs=200)
QUICK = Sizes(samples=3_000, epochs=2, repeats=1, latency_epochs=30)


@dataclass(frozen=True)
class PlatformFit:
    wall_s: float  # CreateRun until the terminal event arrived
    until_model_started_s: float  # CreateRun until model_started arrived: claim, dataset load
    fit_s: float  # model_started until the last epoch_end arrived
    after_fit_s: float  # last epoch_end until the terminal event: artifact, predictions, finish
    epoch_mean_s: float  # the epochs' own durations, measured in the worker
    batch_events: int
    batch_latencies_s: list[float]


@dataclass(frozen=True)
class BareFit:
    wall_s: float  # the train_model call
    epoch_mean_s: float


@dataclass(frozen=True)
class FitComparison:
    train_samples: int
    validation_samples: int
    epochs: int
    platform: list[PlatformFit]
    bare: list[BareFit]

    @property
    def platform_s(self) -> float:
        return median(p.wall_s for p in self.platform)

    @property
    def bare_s(self) -> float:
        return median(b.wall_s for b in self.bare)


@dataclass(frozen=True)
class EventLatency:
    epochs: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    run_s: float  # CreateRun until the terminal event arrived


@dataclass
class _Arrival:
    event: tr.RunEvent
    at: float  # perf_counter() on arrival
    latency_s: float  # arrival (wall clock) minus the event's time

    @property
    def kind(self) -> str:
        return self.event.WhichOneof("event")


def run(database_url: str, folder: Path, sizes: Sizes) -> tuple[FitComparison, EventLatency]:
    """Builds the fit dataset and a tiny one, warms up, then times the fit comparison and
    the event latency. Raises RuntimeError when a dataset or run fails."""
    with training_stack(database_url, folder) as stack:
        metadata = tenant_metadata(TENANT)
        big = _ready_dataset(stack, metadata, sizes.samples + INPUT_STEPS + OUTPUT_STEPS, INPUT_STEPS, OUTPUT_STEPS)
        tiny = _ready_dataset(stack, metadata, TINY_HOURS, 6, 3)
        # The worker imports TensorFlow for its first run, while this process does the same.
        warm_up = _create_run(stack, metadata, tiny, TINY_MODEL, epochs=1)
        _warm_up_here(stack, tiny)
        _watch(stack, metadata, warm_up)
        data, resolved = _bare_inputs(stack, big, FIT_MODEL, sizes.epochs)

        latency_started = time.perf_counter()
        arrivals = _watch(stack, metadata, _create_run(stack, metadata, tiny, TINY_MODEL, sizes.latency_epochs))
        latency = _latency(arrivals, sizes.latency_epochs, arrivals[-1].at - latency_started)

        platform, bare = [], []
        for _ in range(sizes.repeats):
            started = time.perf_counter()
            platform.append(
                _platform_fit(
                    started, _watch(stack, metadata, _create_run(stack, metadata, big, FIT_MODEL, sizes.epochs))
                )
            )
            started = time.perf_counter()
            trained = train_model(resolved, data, NullReporter())
            bare.append(BareFit(time.perf_counter() - started, _mean(h.duration_seconds for h in trained.history)))
    return FitComparison(len(data.x_train), len(data.x_val), sizes.epochs, platform, bare), latency


def _platform_fit(started: float, arrivals: list[_Arrival]) -> PlatformFit:
    model_started = next(a for a in arrivals if a.kind == "model_started")
    epoch_ends = [a for a in arrivals if a.kind == "epoch_end"]
    batches = [a for a in arrivals if a.kind == "batch_progress"]
    return PlatformFit(
        wall_s=arrivals[-1].at - started,
        until_model_started_s=model_started.at - started,
        fit_s=epoch_ends[-1].at - model_started.at,
        after_fit_s=arrivals[-1].at - epoch_ends[-1].at,
        epoch_mean_s=_mean(a.event.epoch_end.metrics.duration.ToTimedelta().total_seconds() for a in epoch_ends),
        batch_events=len(batches),
        batch_latencies_s=[a.latency_s for a in batches],
    )


def median(values) -> float:
    """The median of `values` (any iterable of numbers)."""
    return float(np.median(list(values)))


def _mean(values) -> float:
    return float(np.mean(list(values)))


def _latency(arrivals: list[_Arrival], epochs: int, run_s: float) -> EventLatency:
    latencies = np.array([a.latency_s for a in arrivals if a.kind == "epoch_end"]) * 1000
    if len(latencies) != epochs:
        raise RuntimeError(f"the latency run reported {len(latencies)} of {epochs} epochs")
    p50, p99 = np.percentile(latencies, [50, 99])
    return EventLatency(epochs, float(p50), float(p99), float(latencies.max()), run_s)


def _bare_inputs(stack: TrainingStack, dataset: tr.Dataset, neural: tr.NeuralParams, epochs: int):
    """The dataset's training and validation arrays, read from the store as the worker
    reads them, and the model resolved as the worker resolves it."""
    prefix = dataset_prefix(TENANT, dataset.name.rsplit("/", 1)[1])
    train, validation = (load_arrays(stack.store, f"{prefix}arrays-{split}.npz") for split in ("train", "validation"))
    data = TrainingData(x_train=train["x"], y_train=train["y"], x_val=validation["x"], y_val=validation["y"])
    [resolved], problems = resolve_model_specs([_model_spec(neural, epochs)], data.input_steps)
    if problems:
        raise RuntimeError(f"the benchmark's model spec is invalid: {problems}")
    return data, resolved


def _warm_up_here(stack: TrainingStack, dataset: tr.Dataset) -> None:
    """Imports TensorFlow in this process, with the worker's thread count, and trains once."""
    from tsforge.forecasting.estimators.keras_models import configure_runtime

    configure_runtime(os.cpu_count() or 1)  # what a lone worker uses (services.training.worker)
    data, resolved = _bare_inputs(stack, dataset, TINY_MODEL, 1)
    train_model(resolved, data, NullReporter())


def _model_spec(neural: tr.NeuralParams, epochs: int) -> tr.ModelSpec:
    params = tr.NeuralParams()
    params.CopyFrom(neural)
    params.epochs = epochs
    return tr.ModelSpec(model_id="dense", seed=SEED, dense=tr.DenseParams(neural=params))


def _create_run(stack: TrainingStack, metadata, dataset: tr.Dataset, neural: tr.NeuralParams, epochs: int) -> str:
    run = tr.Run(dataset=dataset.name, model_specs=[_model_spec(neural, epochs)])
    return stack.training.CreateRun(pb.CreateRunRequest(run=run), metadata=metadata).run.name


def _watch(stack: TrainingStack, metadata, name: str) -> list[_Arrival]:
    """Every event of the run as it arrives, until the terminal one. Raises RuntimeError
    when the run does not succeed."""
    arrivals = []
    for response in stack.training.WatchRun(pb.WatchRunRequest(name=name), metadata=metadata, timeout=_WATCH_TIMEOUT_S):
        at, wall = time.perf_counter(), time.time_ns()
        event = response.event
        arrivals.append(_Arrival(event, at, (wall - event.time.ToNanoseconds()) / 1e9))
    last = arrivals[-1].event
    if arrivals[-1].kind != "state_change" or last.state_change.state != tr.RUN_STATE_SUCCEEDED:
        raise RuntimeError(f"{name} did not succeed: {last}")
    return arrivals


def _ready_dataset(stack: TrainingStack, metadata, hours: int, input_steps: int, output_steps: int) -> tr.Dataset:
    """A session over an hourly input and output series of `hours` points, and its
    dataset once READY. Raises RuntimeError when the build fails."""
    t = np.arange(hours)
    temperature = 10 + 5 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(SEED).normal(0, 0.5, hours)
    load = 100 + 3 * temperature + np.cos(2 * np.pi * t / 24)
    inputs = _upload(stack, metadata, "temperature", temperature, common_pb2.FEATURE_ROLE_INPUT)
    outputs = _upload(stack, metadata, "load", load, common_pb2.FEATURE_ROLE_OUTPUT)
    spec = tr.DatasetSpec(
        inputs=[tr.FeatureSpec(file=inputs, horizon=common_pb2.HorizonHours(start=-input_steps, end=0))],
        outputs=[tr.FeatureSpec(file=outputs, horizon=common_pb2.HorizonHours(start=0, end=output_steps))],
        window=tr.WindowConfig(input_steps=input_steps, output_steps=output_steps, step_minutes=60),
        calendar=tr.CalendarFeatures(day=True),
    )
    session = stack.training.CreateSession(
        pb.CreateSessionRequest(session=tr.Session(display_name="bench", spec=spec)), metadata=metadata
    ).session
    dataset = stack.training.BuildDataset(pb.BuildDatasetRequest(parent=session.name), metadata=metadata).dataset
    events = [
        r.event
        for r in stack.training.WatchDatasetBuild(
            pb.WatchDatasetBuildRequest(name=dataset.name), metadata=metadata, timeout=_WATCH_TIMEOUT_S
        )
    ]
    if events[-1].state_change.state != tr.DATASET_STATE_READY:
        raise RuntimeError(f"the benchmark dataset did not build: {events[-1]}")
    return stack.training.GetDataset(pb.GetDatasetRequest(name=dataset.name), metadata=metadata).dataset


def _upload(stack: TrainingStack, metadata, name: str, values: np.ndarray, role: int) -> str:
    start = datetime(2020, 1, 1)
    lines = [f"time;{name}"] + [f"{start + timedelta(hours=i):%Y-%m-%d %H:%M:%S};{v:.4f}" for i, v in enumerate(values)]
    data = ("\n".join(lines) + "\n").encode()

    def requests():
        yield upload_pb.UploadFileRequest(metadata=upload_pb.UploadFileMetadata(file_name=f"{name}.csv", role=role))
        for offset in range(0, len(data), 1 << 20):
            yield upload_pb.UploadFileRequest(chunk=data[offset : offset + (1 << 20)])

    return stack.upload.UploadFile(requests(), metadata=metadata).file.name
