"""Keras file conversions. Imports TensorFlow: only the download path that needs it imports this."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tsforge.forecasting.estimators import keras_models


def keras_to_h5(artifact: bytes) -> bytes:
    """The `.keras` artifact re-saved in the legacy HDF5 format (load it with compile=False)."""
    model = keras_models.from_bytes(artifact)
    with tempfile.TemporaryDirectory(prefix="tsforge-h5-") as directory:
        path = Path(directory) / "model.h5"
        model.save(path)
        return path.read_bytes()
