"""Tiny windows, tiny model specs and a recording reporter for the model tests."""

from __future__ import annotations

import numpy as np

from tsforge.forecasting.estimators.progress import EpochResult
from tsforge.forecasting.estimators.specs import (
    ArLstmSpec,
    AutoArimaSpec,
    AutoEtsSpec,
    CnnSpec,
    DenseSpec,
    LightGbmSpec,
    LinearRegressionSpec,
    LstmSpec,
    ModelKind,
    ModelParams,
    MstlSpec,
    NeuralSpec,
    SeasonalNaiveSpec,
    SvrDirectSpec,
    SvrMimoSpec,
)
from tsforge.forecasting.estimators.trainer import TrainingData
from tsforge.forecasting.target_history import TargetHistory

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
# Every type train_model trains (not the ensemble), on windows with a future window and
# an hourly output history whose seasons are 6 and 12 hours.
RICH_PARAMS: dict[ModelKind, ModelParams] = {
    **TINY_PARAMS,
    ModelKind.LIGHTGBM: LightGbmSpec(n_estimators=10, num_leaves=4, min_child_samples=5),
    ModelKind.MSTL: MstlSpec(season_hours=(6.0, 12.0)),
    ModelKind.AUTO_ETS: AutoEtsSpec(season_hours=(6.0,)),
    ModelKind.AUTO_ARIMA: AutoArimaSpec(season_hours=(6.0,)),
    ModelKind.SEASONAL_NAIVE: SeasonalNaiveSpec(season_hours=(6.0,)),
}
N_FUTURE = 2
HOUR_NS = 3_600 * 10**9
GRID_START = 1_704_067_200 * 10**9  # 2024-01-01T00:00Z


def tiny_series(hours: int, seed: int) -> np.ndarray:
    """A scaled-looking hourly series with seasons of 6 and 12 hours and some noise."""
    t = np.arange(hours)
    noise = np.random.default_rng(seed).normal(0, 0.02, hours)
    return 0.5 + 0.2 * np.sin(2 * np.pi * t / 6) + 0.1 * np.cos(2 * np.pi * t / 12) + noise


def rich_data(n_train: int = 64, n_val: int = 16) -> TrainingData:
    """Tiny windows with a future window, and the output history of every window: the
    targets of window i are the series at its reference time + 1..OUTPUT_STEPS hours."""
    x_train, y_train = tiny_windows(n_train, seed=1)
    x_val, y_val = tiny_windows(n_val, seed=2)
    rng = np.random.default_rng(3)
    first = 40  # hours of history before the first training reference time
    hours = first + n_train + n_val + OUTPUT_STEPS + 1
    values = np.stack([tiny_series(hours, seed) for seed in range(N_OUTPUTS)], axis=1)
    references = GRID_START + HOUR_NS * (first + np.arange(n_train + n_val, dtype=np.int64))
    index = first + np.arange(n_train + n_val)
    y = np.stack([values[index + k] for k in range(1, OUTPUT_STEPS + 1)], axis=1).astype(np.float32)
    return TrainingData(
        x_train,
        y[:n_train],
        x_val,
        y[n_train:],
        future_train=rng.uniform(0, 1, (n_train, OUTPUT_STEPS, N_FUTURE)).astype(np.float32),
        future_val=rng.uniform(0, 1, (n_val, OUTPUT_STEPS, N_FUTURE)).astype(np.float32),
        history=TargetHistory(GRID_START, HOUR_NS, values, lead=0),
        train_references=references[:n_train],
        val_references=references[n_train:],
    )


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
