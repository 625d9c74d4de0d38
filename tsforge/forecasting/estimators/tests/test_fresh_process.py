"""Artifacts load and predict in a process that never trained anything."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tsforge.forecasting.estimators.specs import ModelKind

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

LOAD_AND_PREDICT = """
import sys
from pathlib import Path
import numpy as np
from tsforge.forecasting.estimators.trainer import load_model

folder = Path(sys.argv[1])
x = np.load(folder / "x.npy")
predictions = {}
for artifact in sorted(folder.glob("*.artifact")):
    name, artifact_format = artifact.stem.split(".")
    predictions[name] = load_model(artifact.read_bytes(), artifact_format).predict(x)
np.savez(folder / "predictions.npz", **predictions)
"""


def test_every_model_type_predicts_the_same_after_loading_in_a_fresh_process(trained, tiny_data, tmp_path):
    np.save(tmp_path / "x.npy", tiny_data.x_val)
    for kind, (model, _) in trained.items():
        (tmp_path / f"{kind.value}.{model.artifact_format}.artifact").write_bytes(model.artifact)

    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(tmp_path)],
        check=False,
        timeout=120,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    with np.load(tmp_path / "predictions.npz") as loaded:
        assert sorted(loaded.files) == sorted(kind.value for kind in ModelKind)
        for kind, (model, _) in trained.items():
            np.testing.assert_allclose(
                loaded[kind.value], model.predict(tiny_data.x_val), rtol=1e-5, atol=1e-6, err_msg=kind.value
            )
