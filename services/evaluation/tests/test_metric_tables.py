import numpy as np
import pytest

from services.evaluation.baselines import Baseline
from services.evaluation.metric_tables import EMPTY_TRAINING_SPLIT, evaluate_split
from services.evaluation.metrics import Metric, MetricValue


def one_series(values) -> np.ndarray:
    return np.array(values, dtype=np.float64).reshape(1, -1, 1)


def test_per_step_and_aggregated_tables_on_a_hand_made_example():
    actual = one_series([1, 2, 3, 4, 5])
    predicted = one_series([2, 2, 2, 6, 6])
    tables = evaluate_split(actual, {"m": predicted}, ["load"], step_minutes=15)
    assert [(row.step, row.scores[Metric.MAE].value) for row in tables.per_step] == [
        (1, 1.0),
        (2, 0.0),
        (3, 1.0),
        (4, 2.0),
        (5, 1.0),
    ]
    # Width 2: blocks (1, 2), (3, 4) → 1.5, 3.5 against 2, 4; step 5 is a partial block, dropped.
    # Width 3: 2 against 2. Width 4: 2.5 against 3. Width 5: 3 against 3.6.
    assert [
        (
            row.aggregation_steps,
            row.step_width_minutes,
            pytest.approx(row.scores[Metric.MAE].value),
        )
        for row in tables.aggregated
    ] == [
        (1, 15.0, 1.0),
        (2, 30.0, 0.5),
        (3, 45.0, 0.0),
        (4, 60.0, 0.5),
        (5, 75.0, 0.6),
    ]
    assert [row.scores.count for row in tables.aggregated] == [5, 2, 1, 1, 1]
    assert tables.aggregated[0].scores == tables.overall[0].scores
    assert (
        tables.overall[0].model,
        tables.overall[0].baseline,
        tables.overall[0].step,
    ) == ("m", None, 0)


def test_widths_stop_at_twelve_and_use_each_features_step():
    actual = np.ones((2, 24, 2))
    tables = evaluate_split(actual, {"m": actual + 1}, ["a", "b"], step_minutes=[10, 60])
    assert [row.aggregation_steps for row in tables.aggregated if row.feature == "a"] == list(range(1, 13))
    assert [row.step_width_minutes for row in tables.aggregated if row.feature == "b"][:3] == [60.0, 120.0, 180.0]


def test_baselines_score_the_same_samples_and_rows_are_ordered_models_first():
    generator = np.random.default_rng(5)
    actual = generator.uniform(1, 10, (6, 3, 2))
    history = generator.uniform(1, 10, (6, 2, 2))
    history[0, 1, 0] = np.nan  # the data does not reach back that far for sample 0
    models = {"lstm": actual + 1, "dense": actual - 0.5}
    models["dense"][2, 0, 1] = np.nan  # this model's own gap
    tables = evaluate_split(
        actual,
        models,
        ["x", "y"],
        15,
        history=history,
        train_mean=np.array([5.0, 6.0]),
        season_steps=2,
    )
    keys = [(row.model, row.baseline, row.feature) for row in tables.overall]
    assert keys == [
        (model, baseline, feature)
        for model, baseline in [
            ("lstm", None),
            ("dense", None),
            ("", Baseline.NAIVE),
            ("", Baseline.SEASONAL_NAIVE),
            ("", Baseline.TRAINING_MEAN),
        ]
        for feature in ("x", "y")
    ]
    counts = {(row.model, row.baseline, row.feature): row.scores.count for row in tables.overall}
    # Seasonal naive with m = 2 uses h = 1 for steps 1 and 3: sample 0 loses those steps of x, for every row.
    assert {count for (_, _, feature), count in counts.items() if feature == "x"} == {16}
    assert counts["dense", None, "y"] == 17
    assert {count for key, count in counts.items() if key[2] == "y" and key[0] != "dense"} == {18}
    naive = next(
        row for row in tables.per_step if row.baseline is Baseline.NAIVE and row.feature == "y" and row.step == 3
    )
    expected = np.abs(actual[:, 2, 1] - history[:, 0, 1]).mean()
    assert naive.scores[Metric.MAE].value == pytest.approx(expected)


def test_skill_and_ranking_tables():
    actual = one_series([1, 2, 3, 4])
    history = one_series([0, -1])
    tables = evaluate_split(
        actual,
        {"good": actual + 0.5, "bad": actual + 2},
        ["load"],
        15,
        history=history,
        train_mean=np.array([np.nan]),
    )
    skills = {(row.model, row.baseline): row.skill[Metric.MAE] for row in tables.skill()}
    # Naive forecasts 0 everywhere: MAE 2.5.
    assert skills["good", Baseline.NAIVE].value == pytest.approx(1 - 0.5 / 2.5)
    assert skills["bad", Baseline.NAIVE].value == pytest.approx(1 - 2 / 2.5)
    assert skills["good", Baseline.TRAINING_MEAN] == MetricValue.undefined(f"baseline: {EMPTY_TRAINING_SPLIT}")
    ranking = [(row.rank, row.model, row.baseline) for row in tables.ranking(Metric.MAE)]
    assert ranking == [
        (1, "good", None),
        (2, "bad", None),
        (3, "", Baseline.NAIVE),
        (3, "", Baseline.SEASONAL_NAIVE),
        (5, "", Baseline.TRAINING_MEAN),
    ]


def test_an_empty_split_gives_undefined_rows_not_an_error():
    empty = np.empty((0, 4, 1))
    tables = evaluate_split(
        empty,
        {"m": empty},
        ["load"],
        15,
        history=np.empty((0, 2, 1)),
        train_mean=np.array([1.0]),
    )
    assert all(not value.defined for row in tables.overall for value in row.scores.values.values())
    assert [row.rank for row in tables.ranking(Metric.RMSE)] == [1, 1, 1, 1]
