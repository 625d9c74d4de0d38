"""A TrainingSource over arrays in memory: one run, its models and a dataset, for
testing evaluation without the training service."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tsforge.common.v1 import common_pb2
from tsforge.core.errors import NotFound
from tsforge.training.v1 import training_resources_pb2 as tr

SPLITS = (common_pb2.DATA_SPLIT_TRAIN, common_pb2.DATA_SPLIT_VALIDATION, common_pb2.DATA_SPLIT_TEST)


@dataclass
class FakeSplit:
    actual: np.ndarray  # (n, steps, features), original units
    history: np.ndarray  # (n, history_steps, features), newest first; NaN-padded when asked for more
    start_seconds: int = 1_700_000_000


@dataclass
class FakeTraining:
    """Scaler: data in 0..100 scaled to 0..1 (scaled = x / 100)."""

    tenant: str
    splits: dict[int, FakeSplit]
    predictions: dict[str, dict[int, np.ndarray]]  # model id -> split -> predicted
    features: tuple[str, ...] = ("load",)
    step_minutes: float = 60.0
    run_id: str = "run1"
    model_types: dict[str, int] = field(default_factory=dict)
    history_requests: list[int] = field(default_factory=list)
    # model id -> (levels, split -> (lower, upper)), each (n, n_levels, steps, features)
    intervals: dict[str, tuple[tuple[float, ...], dict[int, tuple[np.ndarray, np.ndarray]]]] = field(
        default_factory=dict
    )
    dropped_samples: int = 0

    def get_run(self, tenant: str, name: str) -> tr.Run:
        if tenant != self.tenant or name != f"runs/{self.run_id}":
            raise NotFound(name)
        run = tr.Run(name=name, dataset="sessions/s1/datasets/d1", state=tr.RUN_STATE_SUCCEEDED)
        for model_id in self.predictions:
            result = run.models.add(
                name=f"{name}/models/{model_id}",
                state=tr.MODEL_STATE_SUCCEEDED,
                model_type=self.model_types.get(model_id, common_pb2.MODEL_TYPE_LINEAR_REGRESSION),
            )
            if result.model_type == common_pb2.MODEL_TYPE_DENSE:
                for epoch in range(1, 6):
                    result.history.add(epoch=epoch, loss=1.0 / epoch, val_loss=1.2 / epoch)
                result.best_epoch = 5
        return run

    def get_dataset(self, tenant: str, name: str) -> tr.Dataset:
        if tenant != self.tenant:
            raise NotFound(name)
        steps = self.splits[common_pb2.DATA_SPLIT_TEST].actual.shape[1]
        dataset = tr.Dataset(
            name=name,
            y_shape=[0, steps, len(self.features)],
            train_sample_count=len(self.splits[common_pb2.DATA_SPLIT_TRAIN].actual),
            validation_sample_count=len(self.splits[common_pb2.DATA_SPLIT_VALIDATION].actual),
            test_sample_count=len(self.splits[common_pb2.DATA_SPLIT_TEST].actual),
            dropped_sample_count=self.dropped_samples,
        )
        dataset.spec.window.step_minutes = round(self.step_minutes)
        dataset.spec.window.output_steps = steps
        for feature in self.features:
            dataset.spec.outputs.add(
                feature=feature, horizon=common_pb2.HorizonHours(start=0, end=steps * self.step_minutes / 60)
            )
        return dataset

    def read_predictions(self, tenant: str, name: str, split: int, history_steps: int = 0):
        if tenant != self.tenant:
            raise NotFound(name)
        self.history_requests.append(history_steps)
        model_id = name.rsplit("/", 1)[1]
        data = self.splits[split]
        predicted = self.predictions[model_id][split]
        n, steps, _width = data.actual.shape
        levels, bounds = self.intervals.get(model_id, ((), {}))
        header = tr.PredictionsHeader(
            output_steps=steps, row_count=n, history_steps=history_steps, interval_levels=levels
        )
        history = data.history[:, :history_steps]
        if history.shape[1] < history_steps:  # the data does not reach back that far
            pad = np.full((n, history_steps - history.shape[1], history.shape[2]), np.nan)
            history = np.concatenate([history, pad], axis=1)
        for feature in self.features:
            header.features.add(
                feature=feature,
                horizon=common_pb2.HorizonHours(start=0, end=steps * self.step_minutes / 60),
                scaler=tr.FeatureScaler(
                    feature=feature, data_min=0, data_max=100, data_mean=50, range=common_pb2.ScalingRange(min=0, max=1)
                ),
            )

        def chunks():
            for first in range(0, n, 7):
                rows = slice(first, first + 7)
                chunk = tr.PredictionsChunk(
                    predicted=predicted[rows].ravel().tolist(),
                    actual=data.actual[rows].ravel().tolist(),
                    predicted_scaled=(predicted[rows] / 100).ravel().tolist(),
                    actual_scaled=(data.actual[rows] / 100).ravel().tolist(),
                )
                for row in range(first, min(n, first + 7)):
                    chunk.reference_times.add(seconds=data.start_seconds + row * 3600)
                if history_steps:
                    chunk.history.extend(history[rows].ravel().tolist())
                if levels:
                    lower, upper = bounds[split]
                    chunk.lower.extend(lower[rows].ravel().tolist())
                    chunk.upper.extend(upper[rows].ravel().tolist())
                yield chunk

        return header, chunks()

    def read_dataset_object(self, tenant: str, dataset: str, object_id: str) -> bytes:
        raise NotFound(object_id)


def seasonal_training(tenant: str, season: int = 4, steps: int = 3, samples: int = 20) -> FakeTraining:
    """A pure seasonal series (period `season` steps): seasonal naive is perfect on it.
    Model "exact" predicts the actuals, model "off" is 1 too high everywhere."""
    pattern = 10.0 * np.arange(1, season + 1)
    history_steps = max(season, 24)  # one day of hourly steps: the implied season

    def split(offset: int, n: int) -> FakeSplit:
        # Sample i's reference time is position offset + i; step k lies at offset + i + k.
        positions = offset + np.arange(n)[:, None]
        actual = pattern[(positions + np.arange(1, steps + 1)) % season][..., None]
        history = pattern[(positions - np.arange(history_steps)) % season][..., None]
        return FakeSplit(actual, history)

    splits: dict[int, FakeSplit] = {
        common_pb2.DATA_SPLIT_TRAIN: split(0, samples),
        common_pb2.DATA_SPLIT_VALIDATION: split(samples, 6),
        common_pb2.DATA_SPLIT_TEST: split(samples + 6, 6),
    }
    predictions: dict[str, dict[int, np.ndarray]] = {
        "exact": {s: data.actual.copy() for s, data in splits.items()},
        "off": {s: data.actual + 1.0 for s, data in splits.items()},
    }
    return FakeTraining(tenant, splits, predictions, model_types={"off": common_pb2.MODEL_TYPE_DENSE})


DAY_HOURS, WEEK_HOURS = 24, 168


def weekly_training(tenant: str, models: tuple[str, ...] = ("daily",), steps: int = 6) -> FakeTraining:
    """Five weeks of hourly load with a daily cycle and a strong weekly one (weekends 30
    higher), small noise: the value one week earlier forecasts it far better than the
    value one day earlier. Splits: three weeks train, one validation, one test.

    Models: "daily" forecasts what one day earlier was (it only matches the daily
    seasonal naive); "good" the actual plus a little noise (it beats every baseline)."""
    generator = np.random.default_rng(13)
    samples = 5 * WEEK_HOURS
    hours = np.arange(samples + steps + 1)
    weekend = (hours // DAY_HOURS) % 7 >= 5
    series = 100 + 20 * np.sin(2 * np.pi * hours / DAY_HOURS) + 30 * weekend + generator.normal(0, 1, len(hours))

    def at(positions: np.ndarray) -> np.ndarray:
        return np.where(positions >= 0, series[np.clip(positions, 0, None)], np.nan)

    def split(first: int, count: int) -> tuple[FakeSplit, dict[str, np.ndarray]]:
        positions = first + np.arange(count)[:, None]
        targets = positions + np.arange(1, steps + 1)
        actual = at(targets)[..., None]
        history = at(positions - np.arange(WEEK_HOURS))[..., None]
        predicted = {
            "daily": at(targets - DAY_HOURS)[..., None],
            "good": actual + generator.normal(0, 0.3, actual.shape),
        }
        return FakeSplit(actual, history, start_seconds=1_700_000_000 + first * 3600), predicted

    parts = {
        common_pb2.DATA_SPLIT_TRAIN: split(0, 3 * WEEK_HOURS),
        common_pb2.DATA_SPLIT_VALIDATION: split(3 * WEEK_HOURS, WEEK_HOURS),
        common_pb2.DATA_SPLIT_TEST: split(4 * WEEK_HOURS, WEEK_HOURS),
    }
    splits: dict[int, FakeSplit] = {s: part[0] for s, part in parts.items()}
    predictions: dict[str, dict[int, np.ndarray]] = {
        model: {s: part[1][model] for s, part in parts.items()} for model in models
    }
    return FakeTraining(tenant, splits, predictions)
