"""Ensembles: a weighted average of other models of the same run.

Weights are fitted on the validation split, per output feature: the convex combination
(weights >= 0 summing to 1) of the members' validation forecasts with the least squared
error, in scaled units. Convex weights cannot extrapolate beyond the members (unlike an
unconstrained stacking regression) and shrink to the best member when the others add
nothing. Without a validation split every member weighs the same.

Weights fitted on the validation split make the ensemble's own validation forecasts
in-sample: its validation error would always look the best of the run and its
intervals too narrow. `cross_fitted` gives honest ones: each half of the validation
split (in time order) forecast with weights fitted on the other half. The platform
scores and calibrates an ensemble on those, and uses the weights from the whole
validation split for everything else.

The artifact is a zip holding ensemble.json (the members in order, each with its
model_id, model type, artifact format and file; the weights, one row per member, one
column per output feature) and each member's own artifact, so an ensemble is
self-contained wherever it is copied.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

FORMAT = "tsforge-ensemble"
FORMAT_VERSION = 1
_SUFFIX = {"keras": "keras", "joblib": "joblib", "lightgbm": "json", "ensemble": "zip"}


def fit_weights(member_predictions: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """(members, n_outputs) convex weights from the members' forecasts (members, n,
    output_steps, n_outputs) and the actual values (n, output_steps, n_outputs); equal
    weights when there are no samples."""
    from scipy.optimize import minimize

    predictions = np.asarray(member_predictions, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    members, n_outputs = predictions.shape[0], actual.shape[-1]
    weights = np.full((members, n_outputs), 1.0 / members)
    if members == 1 or actual.size == 0:
        return weights
    for j in range(n_outputs):
        design = predictions[..., j].reshape(members, -1).T  # (samples * steps, members)
        target = actual[..., j].reshape(-1)
        gram, moment = design.T @ design, design.T @ target
        scale = max(float(np.trace(gram)), 1e-12)

        def loss(w, gram=gram, moment=moment, scale=scale):
            return (w @ gram @ w - 2 * w @ moment) / scale

        def gradient(w, gram=gram, moment=moment, scale=scale):
            return 2 * (gram @ w - moment) / scale

        result = minimize(
            loss,
            weights[:, j],
            jac=gradient,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * members,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}],
            options={"maxiter": 500, "ftol": 1e-12},
        )
        w = np.clip(result.x, 0.0, None)
        weights[:, j] = w / w.sum() if w.sum() > 0 else 1.0 / members
    return weights


def cross_fitted(member_predictions: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """(n, output_steps, n_outputs): the ensemble's validation forecasts, each half (in
    time order) combined with the weights fitted on the other half; with fewer than two
    samples, the in-sample combination."""
    predictions = np.asarray(member_predictions, dtype=np.float64)
    half = predictions.shape[1] // 2
    if half < 1:
        return combine(predictions, fit_weights(predictions, actual))
    first = combine(predictions[:, :half], fit_weights(predictions[:, half:], actual[half:]))
    second = combine(predictions[:, half:], fit_weights(predictions[:, :half], actual[:half]))
    return np.concatenate([first, second])


def combine(member_predictions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n, output_steps, n_outputs) float32: the weighted sum of the members' forecasts."""
    predictions = np.asarray(member_predictions, dtype=np.float64)
    return np.einsum("mnkj,mj->nkj", predictions, np.asarray(weights, dtype=np.float64)).astype(np.float32)


@dataclass(frozen=True)
class Member:
    model_id: str
    model_type: str  # e.g. "MODEL_TYPE_LIGHTGBM"
    artifact_format: str  # trainer.ArtifactFormat value
    artifact: bytes


class EnsemblePredictor:
    """Loaded members and their weights."""

    def __init__(self, member_ids: Sequence[str], members: Sequence, weights: np.ndarray):
        self.member_ids = tuple(member_ids)
        self.members = list(members)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.needs_history = any(getattr(m, "needs_history", False) for m in self.members)

    def predict(self, x: np.ndarray, future: np.ndarray | None = None, history=None) -> np.ndarray:
        """Scaled output windows (n, output_steps, n_outputs): the weighted average."""
        return combine(np.stack([m.predict(x, future, history) for m in self.members]), self.weights)


def to_bytes(members: Sequence[Member], weights: np.ndarray) -> bytes:
    """The ensemble's zip artifact (see the module docstring)."""
    entries = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, row in zip(members, np.asarray(weights, dtype=np.float64)):
            file = f"members/{member.model_id}.{_SUFFIX[member.artifact_format]}"
            archive.writestr(file, member.artifact, compress_type=zipfile.ZIP_STORED)
            entries.append(
                {
                    "model_id": member.model_id,
                    "model_type": member.model_type,
                    "artifact_format": member.artifact_format,
                    "file": file,
                    "weights": row.tolist(),
                }
            )
        document = {"format": FORMAT, "format_version": FORMAT_VERSION, "members": entries}
        archive.writestr("ensemble.json", json.dumps(document, indent=2), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def read(artifact: bytes) -> tuple[dict, dict[str, bytes]]:
    """(ensemble.json, {file: bytes}) of an ensemble artifact. Raises ValueError when it
    is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(artifact)) as archive:
            document = json.loads(archive.read("ensemble.json"))
            if document.get("format") != FORMAT or document.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"not a {FORMAT} document (version {FORMAT_VERSION})")
            return document, {m["file"]: archive.read(m["file"]) for m in document["members"]}
    except (KeyError, zipfile.BadZipFile, json.JSONDecodeError) as error:
        raise ValueError(f"not a tsforge ensemble artifact: {error}") from error


def from_bytes(artifact: bytes, load: Callable[[bytes, str], object]) -> EnsemblePredictor:
    """The ensemble, its members loaded with `load(artifact, format)` (trainer.load_model)."""
    document, files = read(artifact)
    members = document["members"]
    return EnsemblePredictor(
        [m["model_id"] for m in members],
        [load(files[m["file"]], m["artifact_format"]) for m in members],
        np.array([m["weights"] for m in members], dtype=np.float64),
    )
