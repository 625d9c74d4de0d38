"""Reading what jobs stored: dataset objects, model artifacts and predictions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from services.training import repository as repo
from services.training.build import load_arrays, read_feature
from services.training.messages import dataset_message, run_message
from tsforge.common.v1 import common_pb2
from tsforge.core.clients import UploadClient
from tsforge.core.db import Database
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from tsforge.core.names import parse_dataset_name, parse_model_name
from tsforge.core.storage import ObjectStore
from tsforge.forecasting.history import output_history
from tsforge.training.v1 import training_resources_pb2 as tr

DOWNLOAD_CHUNK_BYTES = 1 << 20
TARGET_CHUNK_BYTES = 1 << 20


MAX_HISTORY_STEPS = 4096


class Results:
    def __init__(self, db: Database, store: ObjectStore, uploads: UploadClient):
        self._db = db
        self._store = store
        self._uploads = uploads

    def dataset_object(self, tenant: str, name: str, object_id: str) -> tuple[common_pb2.ObjectRef, Iterator[bytes]]:
        session_id, dataset_id = parse_dataset_name(name)
        with self._db.transaction() as db:
            dataset = dataset_message(repo.find_dataset(db, tenant, session_id, dataset_id))
        for stored in dataset.objects:
            if stored.id == object_id:
                return stored.object, self._store.read(stored.object.key, chunk_size=DOWNLOAD_CHUNK_BYTES)
        known = ", ".join(o.id for o in dataset.objects) or "none yet"
        raise InvalidArgument(FieldViolation("object_id", f"{object_id!r} is not an object of {name} ({known})"))

    def model(self, tenant: str, name: str) -> tuple[tr.Run, tr.ModelResult]:
        """The run and the SUCCEEDED model named "runs/{run}/models/{model}"."""
        run_id, _ = parse_model_name(name)
        with self._db.transaction() as db:
            run = run_message(repo.find_run(db, tenant, run_id))
        for model in run.models:
            if model.name == name:
                if model.state != tr.MODEL_STATE_SUCCEEDED:
                    raise FailedPrecondition(f"the model is {tr.ModelState.Name(model.state)}, not SUCCEEDED", name)
                return run, model
        raise NotFound(name)

    def artifact(self, tenant: str, name: str, format: int) -> tuple[tr.ModelResult, Iterator[bytes]]:
        _, model = self.model(tenant, name)
        if format not in (common_pb2.ARTIFACT_FORMAT_UNSPECIFIED, model.artifact_format):
            raise InvalidArgument(
                FieldViolation(
                    "format",
                    f"this model is stored as {common_pb2.ArtifactFormat.Name(model.artifact_format)}; "
                    "other formats and bundles are served by the model registry",
                )
            )
        return model, self._store.read(model.artifact.key, chunk_size=DOWNLOAD_CHUNK_BYTES)

    def predictions(self, tenant: str, name: str, split: int, history_steps: int, rows_per_chunk: int) -> Iterator:
        """A PredictionsHeader, then PredictionsChunks in reference-time order."""
        violations = []
        if split not in (common_pb2.DATA_SPLIT_TRAIN, common_pb2.DATA_SPLIT_VALIDATION, common_pb2.DATA_SPLIT_TEST):
            violations.append(FieldViolation("split", "must be TRAIN, VALIDATION or TEST"))
        if not 0 <= history_steps <= MAX_HISTORY_STEPS:
            violations.append(FieldViolation("history_steps", f"must be between 0 and {MAX_HISTORY_STEPS}"))
        if not 0 <= rows_per_chunk <= 100_000:
            violations.append(FieldViolation("rows_per_chunk", "must be between 0 and 100000"))
        if violations:
            raise InvalidArgument(violations)
        run, model = self.model(tenant, name)
        stored = next(p for p in model.predictions if p.split == split)
        session_id, dataset_id = parse_dataset_name(run.dataset)
        with self._db.transaction() as db:
            dataset = dataset_message(repo.find_dataset(db, tenant, session_id, dataset_id))
        arrays = load_arrays(self._store, stored.object.key)
        levels, bounds = stored_intervals(arrays, model, name)
        header = tr.PredictionsHeader(
            output_steps=dataset.y_shape[1],
            row_count=stored.row_count,
            history_steps=history_steps,
            interval_levels=levels,
        )
        scalers = {s.feature: s for s in dataset.scalers if s.role == common_pb2.FEATURE_ROLE_OUTPUT}
        for spec in dataset.spec.outputs:
            header.features.add(feature=spec.feature, horizon=spec.horizon, scaler=scalers[spec.feature])
        yield header
        row_bytes = max(
            1,
            arrays["predicted"][:1].nbytes * 4
            + history_steps * len(dataset.spec.outputs) * 8
            + sum(values[:1].nbytes for values in bounds.values()) * 2,  # stored float32, sent as double
        )
        step = rows_per_chunk or max(1, TARGET_CHUNK_BYTES // row_bytes)
        times = arrays["reference_times"]
        history = None
        if history_steps:
            outputs = [read_feature(self._uploads, tenant, spec) for spec in dataset.spec.outputs]
            history = output_history(outputs, dataset, times, history_steps)
        for first in range(0, len(times), step):
            rows = slice(first, first + step)
            chunk = tr.PredictionsChunk(
                predicted=_flat(arrays["predicted"][rows]),
                actual=_flat(arrays["actual"][rows]),
                predicted_scaled=_flat(arrays["predicted_scaled"][rows]),
                actual_scaled=_flat(arrays["actual_scaled"][rows]),
            )
            for seconds in times[rows]:
                chunk.reference_times.add(seconds=int(seconds))
            if history is not None:
                chunk.history.extend(_flat(history[rows]))
            for key, values in bounds.items():
                getattr(chunk, key).extend(_flat(values[rows]))
            yield chunk


def stored_intervals(arrays: dict[str, np.ndarray], model: tr.ModelResult, name: str) -> tuple[list[float], dict]:
    """The stored prediction intervals: their levels and {"lower": ..., "upper": ...},
    each (rows, n_levels, output_steps, n_features), original units; ([], {}) when the
    predictions have none. The levels are the .npz's "interval_levels" array, or the
    model result's interval_levels where the worker records them there.

    Raises FailedPrecondition when the stored bounds and levels do not fit together.
    """
    if "lower" not in arrays or "upper" not in arrays:
        return [], {}
    if "interval_levels" in arrays:
        levels = [float(level) for level in np.ravel(arrays["interval_levels"])]
    else:
        levels = list(getattr(model, "interval_levels", ()))
    expected = (*arrays["predicted"].shape[:1], len(levels), *arrays["predicted"].shape[1:])
    lower, upper = arrays["lower"], arrays["upper"]
    ordered = all(0 < a < b < 1 for a, b in zip(levels, levels[1:])) and all(0 < level < 1 for level in levels)
    if not levels or lower.shape != expected or upper.shape != expected or not ordered:
        raise FailedPrecondition(
            f"the stored prediction intervals of {name} do not fit: bounds {lower.shape} and {upper.shape} "
            f"for levels {levels} (expected {expected}, levels ascending in (0, 1))",
            name,
        )
    return levels, {"lower": lower, "upper": upper}


def _flat(values: np.ndarray) -> list[float]:
    return values.astype(np.float64).ravel().tolist()
