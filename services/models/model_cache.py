"""Loaded models, kept in a least-recently-used cache bounded by their estimated memory."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from tsforge.core.lru import Lru

# A loaded model takes about this many times its artifact's size in memory.
MEMORY_PER_ARTIFACT_BYTE = 3
# Below this many windows a Keras model is called directly: model.predict sets up a
# tf.data pipeline per call, which costs more than a small batch itself.
DIRECT_CALL_MAX_WINDOWS = 256


class LoadedModel:
    """A predictor from tsforge.forecasting.estimators.trainer.load_model, and its cost."""

    def __init__(self, predictor, size_bytes: int):
        self.predictor = predictor
        self.size_bytes = size_bytes

    def predict(self, x: np.ndarray, future: np.ndarray | None = None, history=None) -> np.ndarray:
        """Scaled output windows (n, output_steps, n_outputs), float32."""
        keras_model = getattr(self.predictor, "model", None)
        if keras_model is not None and 0 < len(x) <= DIRECT_CALL_MAX_WINDOWS:
            return np.array(keras_model(self.predictor.inputs(x, future), training=False), dtype=np.float32)
        return np.asarray(self.predictor.predict(x, future, history), dtype=np.float32)


class ModelCache:
    """Thread-safe; a model is loaded once even when many requests want it at once."""

    def __init__(self, max_bytes: int):
        self._models: Lru[str, LoadedModel] = Lru(max_bytes, lambda model: model.size_bytes)
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0

    @property
    def size_bytes(self) -> int:
        return self._models.weight

    def get(self, key: str, load: Callable[[], tuple[object, int]]) -> LoadedModel:
        """The model cached under `key`, or load() -> (predictor, artifact size) it now."""
        model = self._models.get(key)
        if model is not None:
            return model
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:  # one load per key, however many requests want it at once
            model = self._models.get(key)
            if model is not None:
                return model
            predictor, artifact_size = load()
            model = LoadedModel(predictor, artifact_size * MEMORY_PER_ARTIFACT_BYTE)
            self._models.put(key, model)
            with self._lock:
                self.loads += 1
                self._loading.pop(key, None)
            return model
