"""A dataset build, as a worker runs it: read the session's files through the upload
service, cut them into windows (X, y and the future window of lags and calendar at the
output steps), split, fit the scalers on the training split only, and store arrays,
scalers, the outputs' history grid (for statistical models) and violin plots. Progress
goes to the build's event log."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from google.rpc import code_pb2

from services.training import queue
from services.training import repository as repo
from services.training.job_objects import JobGone, JobObjects, dataset_prefix
from services.training.messages import from_json
from services.training.rows import DatasetRow
from tsforge.common.v1 import common_pb2
from tsforge.core.db import reconnecting
from tsforge.core.errors import DomainError, QuotaExceeded
from tsforge.forecasting.protos import (
    calendar_spec,
    feature_spec,
    future_calendar_spec,
    lag_window_spec,
    scaler_protos,
    window_spec,
)
from tsforge.forecasting.scaling import MinMaxScalers
from tsforge.forecasting.splitting import split_indices
from tsforge.forecasting.target_history import grid_problem, target_history
from tsforge.forecasting.windowing import Feature, build_windows
from tsforge.training.v1 import training_resources_pb2 as tr

log = logging.getLogger(__name__)

SPLITS = (
    ("train", common_pb2.DATA_SPLIT_TRAIN),
    ("validation", common_pb2.DATA_SPLIT_VALIDATION),
    ("test", common_pb2.DATA_SPLIT_TEST),
)


class BuildStopped(Exception):
    """The build was taken away or its session deleted."""


def run_build(worker, row: DatasetRow, alive: Callable[[], bool]) -> None:
    """Builds the dataset of `row`; marks it READY, or FAILED with the reason (a build
    that would go over the tenant's byte quota fails with it, its objects deleted)."""
    progress = _Progress(worker.db, row.id)
    prefix = dataset_prefix(row.tenant, row.id)
    objects = JobObjects(worker.db, worker.store, worker.config.tenant_quota_bytes, "dataset", row.tenant, row.id)
    try:
        result = _build(worker, row, alive, progress, objects)
        if not queue.complete_dataset(worker.db, row.id, worker.worker_id, result):
            _discard(objects, prefix)
    except (BuildStopped, JobGone):
        _discard(objects, prefix)
    except Exception as error:
        reason = str(error) if isinstance(error, (ValueError, DomainError)) else f"internal error: {error!r}"
        if not isinstance(error, (ValueError, DomainError)):
            log.exception("dataset build %s failed", row.id)
        _discard(objects, prefix)
        with worker.db.transaction() as session:
            current = repo.lock_dataset(session, row.id)
            if current is not None and current.state == tr.DATASET_STATE_BUILDING:
                if isinstance(error, QuotaExceeded):
                    repo.append_event(
                        session,
                        "dataset",
                        row.id,
                        tr.DatasetBuildEvent(error=tr.JobError(code=code_pb2.Code.Name(error.code), message=reason)),
                    )
                queue.fail_dataset(session, current, reason)


def _discard(objects: JobObjects, prefix: str) -> None:
    try:
        objects.discard_all(prefix)
    except Exception:  # the row may be gone with its session: the objects are what matter
        log.warning("could not give back the bytes of %s", prefix, exc_info=True)


class _Progress:
    def __init__(self, db, dataset_id: str):
        self._db, self._id, self._started = db, dataset_id, time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        elapsed = time.monotonic() - self._started
        event = tr.DatasetBuildEvent(progress=tr.DatasetBuildProgress(done=done, total=total, stage=stage))
        if 0 < done < total:
            event.progress.eta.FromTimedelta(timedelta(seconds=elapsed * (total - done) / done))

        def write() -> None:
            with self._db.transaction() as session:
                repo.append_event(session, "dataset", self._id, event)

        reconnecting(write)


def _build(worker, row: DatasetRow, alive: Callable[[], bool], progress: _Progress, objects: JobObjects) -> tr.Dataset:
    document = from_json(row.document, tr.Dataset)
    spec = document.spec
    inputs, outputs, lags = _read_features(worker.uploads, row.tenant, spec, alive, progress)
    window = window_spec(spec.window)
    gap = document.gap_tolerance.ToTimedelta() if document.HasField("gap_tolerance") else None
    progress("windowing", 0, 1)
    windows = build_windows(
        inputs,
        outputs,
        window,
        gap_tolerance=gap,
        calendar=calendar_spec(spec.calendar),
        lags=lags,
        future_calendar=future_calendar_spec(spec),
    )
    if not alive():
        raise BuildStopped()
    count = len(windows.times)
    split = split_indices(
        count,
        spec.split.train_fraction,
        spec.split.validation_fraction,
        spec.split.test_fraction,
        shuffle=spec.split.method == tr.SPLIT_METHOD_SHUFFLED,
        seed=spec.split.seed,
    )
    if len(split.train) == 0:
        raise ValueError(f"only {count} samples could be cut ({windows.dropped} dropped): too few for a training split")
    progress("scaling", 0, 1)
    scalers = MinMaxScalers.fit(
        windows, split.train, [f.spec for f in inputs], [f.spec for f in outputs], [f.spec for f in lags]
    )
    scalers.transform_inputs(windows.X, copy=False)
    scalers.transform_outputs(windows.y, copy=False)
    scalers.transform_future(windows.future, copy=False)

    result = tr.Dataset(
        x_shape=list(windows.X.shape),
        y_shape=list(windows.y.shape),
        input_feature_names=list(windows.input_names),
        output_feature_names=list(windows.output_names),
        train_sample_count=len(split.train),
        validation_sample_count=len(split.validation),
        test_sample_count=len(split.test),
        dropped_sample_count=windows.dropped,
        future_shape=list(windows.future.shape),
        future_feature_names=list(windows.future_names),
    )
    result.scalers.extend(scaler_protos(scalers))
    prefix = dataset_prefix(row.tenant, row.id)
    _store_arrays(objects, prefix, result, windows, split, scalers, progress)
    if grid_problem([f.spec for f in outputs], window) is None:
        _store_history(objects, prefix, result, outputs, window, gap, scalers)
    progress("plots", 0, 1)
    from services.training.violins import violin_plots  # matplotlib: only where plots are drawn

    for plot_id, feature, png in violin_plots(windows, split):
        ref = put_bytes(objects, f"{prefix}{plot_id}.png", png, "image/png")
        result.objects.add(id=plot_id, kind=tr.DATASET_OBJECT_KIND_VIOLIN_PLOT, feature=feature, object=ref)
    if windows.dropped > count:
        append_warning(
            worker.db,
            row.id,
            f"{windows.dropped} windows were dropped and only {count} kept: "
            "check the files' gaps and the gap tolerance",
        )
    progress("done", 1, 1)
    return result


def _read_features(
    uploads, tenant: str, spec: tr.DatasetSpec, alive: Callable[[], bool], progress: _Progress
) -> tuple[list[Feature], list[Feature], list[Feature]]:
    """The inputs, outputs and lags of the spec with their series, each file's column
    read once through the upload service."""
    files = [*spec.inputs, *spec.outputs]
    features: list[Feature] = []
    for i, feature in enumerate(files):
        progress("reading files", i, len(files))
        if not alive():
            raise BuildStopped()
        features.append(read_feature(uploads, tenant, feature))
    read = {(f.file, f.column): feature.series for f, feature in zip(files, features)}
    lags = []
    for lag in spec.lags:
        if (lag.file, lag.column) not in read:
            if not alive():
                raise BuildStopped()
            read[(lag.file, lag.column)] = uploads.read_series(tenant, lag.file, lag.column)
        lags.append(Feature(lag_window_spec(spec, lag), read[(lag.file, lag.column)]))
    return features[: len(spec.inputs)], features[len(spec.inputs) :], lags


def _store_arrays(objects: JobObjects, prefix: str, result: tr.Dataset, windows, split, scalers, progress) -> None:
    """Each split's scaled arrays and the scalers, named in `result`."""
    for number, (name, kind) in enumerate(SPLITS):
        progress("storing", number, len(SPLITS) + 1)
        index = getattr(split, name)
        seconds = windows.times[index].astype("datetime64[s]").astype(np.int64)
        ref = put_npz(
            objects,
            f"{prefix}arrays-{name}.npz",
            x=windows.X[index],
            y=windows.y[index],
            future=windows.future[index],
            reference_times=seconds,
        )
        result.objects.add(id=f"arrays-{name}", kind=tr.DATASET_OBJECT_KIND_ARRAYS, split=kind, object=ref)
    ref = put_bytes(objects, f"{prefix}scalers.json", json.dumps(scalers.to_dict()).encode(), "application/json")
    result.objects.add(id="scalers", kind=tr.DATASET_OBJECT_KIND_SCALERS, object=ref)


def _store_history(objects: JobObjects, prefix: str, result: tr.Dataset, outputs, window, gap, scalers) -> None:
    """The outputs on their step grid, scaled like y: what statistical models read."""
    history = target_history(outputs, window, gap)
    scalers.transform_outputs(history.values, copy=False)
    ref = put_npz(
        objects,
        f"{prefix}history.npz",
        start=np.int64(history.start),
        step=np.int64(history.step),
        lead=np.int64(history.lead),
        values=history.values,
    )
    result.objects.add(id="history", kind=tr.DATASET_OBJECT_KIND_HISTORY, object=ref)


def read_feature(uploads, tenant: str, feature: tr.FeatureSpec) -> Feature:
    """A spec'd feature with its raw series, read through the upload service.

    Raises NotFound when the file no longer exists; Unavailable from the client.
    """
    return Feature(feature_spec(feature), uploads.read_series(tenant, feature.file, feature.column))


def append_warning(db, dataset_id: str, message: str) -> None:
    with db.transaction() as session:
        repo.append_event(session, "dataset", dataset_id, tr.DatasetBuildEvent(warning=tr.JobWarning(message=message)))


def put_npz(objects: JobObjects, key: str, **arrays) -> common_pb2.ObjectRef:
    """Stores the arrays as one .npz at `key`. Raises QuotaExceeded (nothing stored), JobGone."""
    # Through a temporary file: the arrays are written once (their size known before
    # the quota is asked), then streamed to the store.
    with tempfile.TemporaryFile() as handle:
        np.savez(handle, **arrays)
        size, sha256 = objects.put_file(key, handle)
    return common_pb2.ObjectRef(key=key, size_bytes=size, sha256=sha256, content_type="application/x-npz")


def put_bytes(objects: JobObjects, key: str, data: bytes, content_type: str) -> common_pb2.ObjectRef:
    """Stores `data` at `key`. Raises QuotaExceeded (nothing stored), JobGone."""
    size, sha256 = objects.put_bytes(key, data)
    return common_pb2.ObjectRef(key=key, size_bytes=size, sha256=sha256, content_type=content_type)


def load_arrays(store, key: str) -> dict[str, np.ndarray]:
    """A stored .npz, read back (for runs and ReadPredictions)."""
    with tempfile.TemporaryFile() as handle:
        for chunk in store.read(key):
            handle.write(chunk)
        handle.seek(0)
        with np.load(handle) as data:
            return {name: data[name] for name in data.files}
