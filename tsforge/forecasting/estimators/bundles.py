"""A trained model's artifact as files that load without tsforge, for the registry's
BUNDLE zip: Keras' `.keras`, plain scikit-learn objects (joblib), LightGBM's own text
models, plain statsforecast objects (joblib), and ensembles of those.

`model_files(format, artifact)` returns the loader name, the files (name -> bytes) and
the details a manifest needs to use them (see each loader's section of the bundle's
README, services/models/bundle.py). Nothing written here unpickles into a tsforge or
services class.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import joblib


@dataclass(frozen=True)
class ModelFiles:
    """loader: "keras", "sklearn-flattened", "sklearn-step-indexed", "lightgbm",
    "statsforecast" or "ensemble"; files: path in the bundle -> bytes; details: what
    the manifest says about using them."""

    loader: str
    files: dict[str, bytes]
    details: dict = field(default_factory=dict)


def _joblib(value) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(value, buffer)
    return buffer.getvalue()


def model_files(format: str, artifact: bytes, prefix: str = "") -> ModelFiles:
    """The bundle files of an artifact of the given trainer.ArtifactFormat value.

    Raises ValueError for an artifact that is not one of this platform's.
    """
    if format == "keras":
        return ModelFiles("keras", {f"{prefix}model.keras": artifact}, {"file": f"{prefix}model.keras"})
    if format == "lightgbm":
        from tsforge.forecasting.estimators import lightgbm_models

        model = lightgbm_models.from_bytes(artifact)
        boosters = {
            f"{prefix}lightgbm/booster-{i:03d}.txt": b.model_to_string().encode() for i, b in enumerate(model.boosters)
        }
        return ModelFiles(
            "lightgbm",
            boosters,
            {
                "file": next(iter(boosters)),
                "files": list(boosters),
                "strategy": model.strategy,
                "n_future": model.n_future,
                "n_calendar": model.n_calendar,
            },
        )
    if format == "ensemble":
        from tsforge.forecasting.estimators import ensemble

        document, stored = ensemble.read(artifact)
        files: dict[str, bytes] = {}
        members = []
        for member in document["members"]:
            inner = model_files(
                member["artifact_format"], stored[member["file"]], f"{prefix}members/{member['model_id']}/"
            )
            files.update(inner.files)
            members.append(
                {
                    "model_id": member["model_id"],
                    "type": member["model_type"],
                    "loader": inner.loader,
                    "weights": member["weights"],
                    **inner.details,
                }
            )
        return ModelFiles("ensemble", files, {"file": f"{prefix}members/", "members": members})
    from tsforge.forecasting.estimators import sklearn_models

    loaded = sklearn_models.load_joblib(artifact)
    if type(loaded).__name__ == "StatisticalForecaster":
        name = f"{prefix}model.joblib"
        return ModelFiles("statsforecast", {name: _joblib(_plain_statistical(loaded))}, {"file": name})
    layout, plain = sklearn_models.plain_estimator(sklearn_models.checked(loaded))
    name = f"{prefix}model.joblib"
    return ModelFiles(f"sklearn-{layout}", {name: _joblib(plain)}, {"file": name, "n_future": loaded.n_future})


def _plain_statistical(model) -> dict:
    """A StatisticalForecaster as a dict of statsforecast objects, numbers and lists."""
    return {
        "kind": model.spec.kind.value,
        "models": list(model.models),
        "season_steps": list(model.season_steps),
        "history_steps": int(model.spec.history_steps),
        "step_ns": int(model.step),
        "lead": int(model.lead),
        "output_steps": int(model.output_steps),
        "fit_starts_ns": [int(t) for t in model.fit_starts],
        "fit_end_ns": int(model.fit_end),
        "seasonal_cycles": None if model.seasonals is None else [[c.tolist() for c in s] for s in model.seasonals],
    }
