"""Min-max scalers, one per feature, fitted on the training split only.

A feature that is constant on the training split has no span to divide by; it is
scaled as if its span were one unit (as scikit-learn does) but centred, so the constant
maps to the midpoint of its range and other values stay distinguishable and invertible.
Calendar columns (of X and of the future window) are not scaled; lag features (the
future window's first columns) have scalers of their own, fitted the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tsforge.forecasting.windowing import FeatureSpec, Windows

_FORMAT_VERSION = 1
# Samples read per block while fitting, so that fitting does not copy the training split.
_FIT_BLOCK = 65_536


@dataclass(frozen=True)
class FeatureScaler:
    """One feature's training statistics (original units) and target range."""

    feature: str
    data_min: float
    data_max: float
    data_mean: float
    range_min: float = 0.0
    range_max: float = 1.0

    @property
    def scale(self) -> float:
        span = self.data_max - self.data_min
        return (self.range_max - self.range_min) / (span if span > 0 else 1.0)

    @property
    def anchor(self) -> float:
        """Where data_min lands: scaled = (original - data_min) * scale + anchor."""
        if self.data_max > self.data_min:
            return self.range_min
        return (self.range_min + self.range_max) / 2

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Original units → scaled: (x − data_min) · scale + anchor."""
        return (values - self.data_min) * self.scale + self.anchor


@dataclass(frozen=True)
class MinMaxScalers:
    """The scalers of a dataset's inputs (X's first columns), outputs (y's columns) and
    lag features (the future window's first columns)."""

    inputs: tuple[FeatureScaler, ...]
    outputs: tuple[FeatureScaler, ...]
    lags: tuple[FeatureScaler, ...] = ()

    @classmethod
    def fit(
        cls,
        windows: Windows,
        train: np.ndarray,
        inputs: Sequence[FeatureSpec],
        outputs: Sequence[FeatureSpec],
        lags: Sequence[FeatureSpec] = (),
    ) -> MinMaxScalers:
        """Fits on the samples `train` indexes (the training split) and nothing else.

        Raises ValueError if the training split is empty or the specs do not match the
        arrays' feature counts.
        """
        train = np.asarray(train)
        if len(train) == 0:
            raise ValueError("cannot fit scalers on an empty training split")
        too_many = len(inputs) > windows.X.shape[2] or len(lags) > windows.future.shape[2]
        if len(outputs) != windows.y.shape[2] or too_many:
            raise ValueError("feature specs do not match the windows' feature counts")
        return cls(
            inputs=_fit(windows.X, train, inputs),
            outputs=_fit(windows.y, train, outputs),
            lags=_fit(windows.future, train, lags) if lags else (),
        )

    def transform_inputs(self, X: np.ndarray, *, copy: bool = True) -> np.ndarray:
        """Scales X's input columns (calendar columns untouched); in place if copy=False."""
        return _apply(X, self.inputs, copy, inverse=False)

    def transform_outputs(self, y: np.ndarray, *, copy: bool = True) -> np.ndarray:
        """Scales y; in place if copy=False."""
        return _apply(y, self.outputs, copy, inverse=False)

    def inverse_transform_outputs(self, y: np.ndarray, *, copy: bool = True) -> np.ndarray:
        """Turns scaled outputs (e.g. predictions) back into original units."""
        return _apply(y, self.outputs, copy, inverse=True)

    def transform_future(self, future: np.ndarray, *, copy: bool = True) -> np.ndarray:
        """Scales the future window's lag columns (calendar columns untouched)."""
        return _apply(future, self.lags, copy, inverse=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict that from_dict turns back into equal scalers ("lags" only
        when there are lag features, so older documents read the same)."""
        document = {
            "version": _FORMAT_VERSION,
            "inputs": [asdict(scaler) for scaler in self.inputs],
            "outputs": [asdict(scaler) for scaler in self.outputs],
        }
        if self.lags:
            document["lags"] = [asdict(scaler) for scaler in self.lags]
        return document

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MinMaxScalers:
        """Raises ValueError for an unknown format version or malformed entries."""
        if data.get("version") != _FORMAT_VERSION:
            raise ValueError(f"unknown scaler format version {data.get('version')!r}")
        try:
            return cls(
                inputs=tuple(_scaler_from_dict(item) for item in data["inputs"]),
                outputs=tuple(_scaler_from_dict(item) for item in data["outputs"]),
                lags=tuple(_scaler_from_dict(item) for item in data.get("lags", ())),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed scalers: {error}") from error


def _fit(values: np.ndarray, train: np.ndarray, specs: Sequence[FeatureSpec]) -> tuple[FeatureScaler, ...]:
    columns = len(specs)
    low = np.full(columns, np.inf)
    high = np.full(columns, -np.inf)
    total = np.zeros(columns)
    for first in range(0, len(train), _FIT_BLOCK):
        block = values[train[first : first + _FIT_BLOCK], :, :columns]
        low = np.minimum(low, block.min(axis=(0, 1)))
        high = np.maximum(high, block.max(axis=(0, 1)))
        total += block.sum(axis=(0, 1), dtype=np.float64)
    count = len(train) * values.shape[1]
    return tuple(
        FeatureScaler(
            feature=spec.name,
            data_min=float(low[j]),
            data_max=float(high[j]),
            data_mean=float(total[j] / count),
            range_min=float(spec.scale_min),
            range_max=float(spec.scale_max),
        )
        for j, spec in enumerate(specs)
    )


def _apply(values: np.ndarray, scalers: Sequence[FeatureScaler], copy: bool, inverse: bool) -> np.ndarray:
    result = values.copy() if copy else values
    for j, scaler in enumerate(scalers):
        column = result[..., j]
        # Subtracting first keeps float32 precision for values far from zero.
        if inverse:
            column -= scaler.anchor
            column /= scaler.scale
            column += scaler.data_min
        else:
            column -= scaler.data_min
            column *= scaler.scale
            column += scaler.anchor
    return result


def _scaler_from_dict(item: dict[str, Any]) -> FeatureScaler:
    return FeatureScaler(
        feature=str(item["feature"]),
        data_min=float(item["data_min"]),
        data_max=float(item["data_max"]),
        data_mean=float(item["data_mean"]),
        range_min=float(item["range_min"]),
        range_max=float(item["range_max"]),
    )
