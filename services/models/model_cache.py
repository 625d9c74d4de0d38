"""Loaded models, kept in a least-recently-used cache bounded by their estimated memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

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
        self._max_bytes = max_bytes
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return sum(model.size_bytes for model in self._models.values())

    def get(self, key: str, load: Callable[[], tuple[object, int]]) -> LoadedModel:
        """The model cached under `key`, or load() -> (predictor, artifact size) it now."""
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
                return model
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                model = self._models.get(key)
                if model is not None:
                    return model
            predictor, artifact_size = load()
            model = LoadedModel(predictor, artifact_size * MEMORY_PER_ARTIFACT_BYTE)
            with self._lock:
                self.loads += 1
                self._models[key] = model
                self._evict()
                self._loading.pop(key, None)
            return model

    def _evict(self) -> None:
        total = sum(model.size_bytes for model in self._models.values())
        # The newest model stays even when it alone exceeds the bound: it is in use.
        while total > self._max_bytes and len(self._models) > 1:
            _, evicted = self._models.popitem(last=False)
            total -= evicted.size_bytes
