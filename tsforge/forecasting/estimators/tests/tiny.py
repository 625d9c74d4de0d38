"""Tiny windows, tiny model specs and a recording reporter for the model tests."""

from __future__ import annotations

import numpy as np

from tsforge.forecasting.estimators.progress import EpochResult
from tsforge.forecasting.estimators.specs import (
    ArLstmSpec,
    CnnSpec,
    DenseSpec,
    LinearRegressionSpec,
    LstmSpec,
    ModelKind,
    ModelParams,
    NeuralSpec,
    SvrDirectSpec,
    SvrMimoSpec,
)

INPUT_STEPS, N_INPUTS, OUTPUT_STEPS, N_OUTPUTS = 8, 2, 3, 2
TINY_NEURAL = NeuralSpec(layers=2, units=8, epochs=2, batch_size=16)

TINY_PARAMS: dict[ModelKind, ModelParams] = {
    ModelKind.DENSE: DenseSpec(TINY_NEURAL),
    ModelKind.CNN: CnnSpec(TINY_NEURAL, kernel_size=3),
    ModelKind.LSTM: LstmSpec(NeuralSpec(layers=1, units=8, epochs=2, batch_size=16)),
    ModelKind.AR_LSTM: ArLstmSpec(TINY_NEURAL),
    ModelKind.SVR_DIRECT: SvrDirectSpec(),
    ModelKind.SVR_MIMO: SvrMimoSpec(kernel="rbf"),
    ModelKind.LINEAR_REGRESSION: LinearRegressionSpec(),
}


def tiny_windows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random input windows and outputs that are an exact linear function of them."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, INPUT_STEPS, N_INPUTS)).astype(np.float32)
    mixing = np.random.default_rng(1234).normal(0, 0.3, (INPUT_STEPS * N_INPUTS, OUTPUT_STEPS * N_OUTPUTS))
    y = (x.reshape(n, -1) @ mixing).reshape(n, OUTPUT_STEPS, N_OUTPUTS) + 0.5
    return x, y.astype(np.float32)


class RecordingReporter:
    """Records every call; asks to stop once should_stop has been asked `stop_after` times."""

    def __init__(self, stop_after: int | None = None):
        self.stop_after = stop_after
        self.epochs: list[tuple[EpochResult, int]] = []
        self.batches: list[tuple[int, int, int, float]] = []
        self.stop_checks = 0

    def epoch_end(self, metrics: EpochResult, total_epochs: int) -> None:
        self.epochs.append((metrics, total_epochs))

    def batch(self, epoch: int, batch: int, total_batches: int, loss: float) -> None:
        self.batches.append((epoch, batch, total_batches, loss))

    def should_stop(self) -> bool:
        self.stop_checks += 1
        return self.stop_after is not None and self.stop_checks > self.stop_after
