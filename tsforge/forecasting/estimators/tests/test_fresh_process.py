"""Artifacts load and predict in a process that never trained anything: every model type,
with a future window and the output history, and an ensemble of two of them."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tsforge.forecasting.estimators import ensemble
from tsforge.forecasting.estimators.specs import ModelKind

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

LOAD_AND_PREDICT = """
import sys
from pathlib import Path
import numpy as np
from tsforge.forecasting.estimators.trainer import load_model
from tsforge.forecasting.target_history import TargetHistory

folder = Path(sys.argv[1])
data = np.load(folder / "inputs.npz")
history = TargetHistory(int(data["start"]), int(data["step"]), data["values"], int(data["lead"]))
windows = history.at(data["references"])
predictions = {}
for artifact in sorted(folder.glob("*.artifact")):
    name, artifact_format = artifact.stem.split(".")
    model = load_model(artifact.read_bytes(), artifact_format)
    predictions[name] = model.predict(data["x"], data["future"], windows)
np.savez(folder / "predictions.npz", **predictions)
"""


def test_every_model_type_predicts_the_same_after_loading_in_a_fresh_process(trained_rich, tiny_rich_data, tmp_path):
    data = tiny_rich_data
    history = data.history
    np.savez(
        tmp_path / "inputs.npz",
        x=data.x_val,
        future=data.future_val,
        start=history.start,
        step=history.step,
        values=history.values,
        lead=history.lead,
        references=data.val_references,
    )
    windows = data.history_at(data.val_references)
    expected = {}
    for kind, model in trained_rich.items():
        (tmp_path / f"{kind.value}.{model.artifact_format}.artifact").write_bytes(model.artifact)
        expected[kind.value] = model.predict(data.x_val, data.future_val, windows)
    members = [trained_rich[ModelKind.LIGHTGBM], trained_rich[ModelKind.MSTL]]
    weights = np.array([[0.25, 0.6], [0.75, 0.4]])
    artifact = ensemble.to_bytes(
        [ensemble.Member(f"m{i}", "MODEL_TYPE_X", str(m.artifact_format), m.artifact) for i, m in enumerate(members)],
        weights,
    )
    (tmp_path / "ensemble.ensemble.artifact").write_bytes(artifact)
    expected["ensemble"] = ensemble.combine(np.stack([expected["lightgbm"], expected["mstl"]]), weights)

    result = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, str(tmp_path)],
        check=False,
        timeout=180,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]

    with np.load(tmp_path / "predictions.npz") as loaded:
        assert sorted(loaded.files) == sorted(kind.value for kind in ModelKind)
        for name, values in expected.items():
            assert values.shape == data.y_val.shape and np.isfinite(values).all(), name
            np.testing.assert_allclose(loaded[name], values, rtol=1e-5, atol=1e-6, err_msg=name)
