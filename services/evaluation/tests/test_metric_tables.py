import numpy as np
import pytest

from services.evaluation.baselines import Baseline, BaselineKey
from services.evaluation.metric_tables import (
    EMPTY_TRAINING_SPLIT,
    compare_with_baselines,
    evaluate_split,
    strongest_season,
)
from services.evaluation.metrics import Metric, MetricValue

NAIVE = BaselineKey(Baseline.NAIVE)
MEAN = BaselineKey(Baseline.TRAINING_MEAN)


def seasonal(m: int) -> BaselineKey:
    return BaselineKey(Baseline.SEASONAL_NAIVE, m)


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
        seasons=[2, 1, 2],
    )
    keys = [(row.model, row.baseline, row.feature) for row in tables.overall]
    # Season 1 is the naive forecast and 2 is asked for twice: each baseline once.
    assert keys == [
        (model, baseline, feature)
        for model, baseline in [("lstm", None), ("dense", None), ("", NAIVE), ("", seasonal(2)), ("", MEAN)]
        for feature in ("x", "y")
    ]
    counts = {(row.model, row.baseline, row.feature): row.scores.count for row in tables.overall}
    # Seasonal naive with m = 2 uses h = 1 for steps 1 and 3: sample 0 loses those steps of x, for every row.
    assert {count for (_, _, feature), count in counts.items() if feature == "x"} == {16}
    assert counts["dense", None, "y"] == 17
    assert {count for key, count in counts.items() if key[2] == "y" and key[0] != "dense"} == {18}
    naive = next(row for row in tables.per_step if row.baseline == NAIVE and row.feature == "y" and row.step == 3)
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
        seasons=[2],
        reference=NAIVE,
    )
    skills = {(row.model, row.baseline): row.skill[Metric.MAE] for row in tables.skill()}
    # Naive forecasts 0 everywhere: MAE 2.5.
    assert skills["good", NAIVE].value == pytest.approx(1 - 0.5 / 2.5)
    assert skills["bad", NAIVE].value == pytest.approx(1 - 2 / 2.5)
    assert skills["good", MEAN] == MetricValue.undefined(f"baseline: {EMPTY_TRAINING_SPLIT}")
    ranking = [(row.rank, row.model, row.baseline) for row in tables.ranking(Metric.MAE)]
    # Seasonal naive m = 2 forecasts -1, 0, -1, 0: MAE 3.
    assert ranking == [(1, "good", None), (2, "bad", None), (3, "", NAIVE), (4, "", seasonal(2)), (5, "", MEAN)]
    # Every row carries its skill against the reference, per step too; the reference's own is 0.
    good = next(row for row in tables.overall if row.model == "good")
    assert good.skill[Metric.MAE] == skills["good", NAIVE]
    step_4 = next(row for row in tables.per_step if row.model == "bad" and row.step == 4)
    assert step_4.skill[Metric.MAE].value == pytest.approx(1 - 2 / 4)
    assert next(row for row in tables.overall if row.baseline == NAIVE).skill[Metric.MAE].value == 0.0
    comparison = compare_with_baselines(tables, Metric.MAE)
    assert (comparison.best_baseline, comparison.models_beating) == (NAIVE, ("good", "bad"))
    assert comparison.best_baseline_value.value == pytest.approx(2.5)
    assert strongest_season(tables, Metric.MAE) == 1


def test_the_strongest_baseline_wins_ties_in_table_order_and_models_must_be_strictly_better():
    actual = one_series([1, 1, 1, 1])
    history = one_series([1, 1, 1])  # naive and seasonal naive are both perfect
    tables = evaluate_split(actual, {"same": actual.copy()}, ["load"], 15, history=history, seasons=[3, 2])
    comparison = compare_with_baselines(tables, Metric.MAE)
    assert comparison.best_baseline == NAIVE and comparison.models_beating == ()
    assert comparison.best_model == "same" and comparison.best_model_value.value == 0.0
    assert tables.overall[0].skill is None  # no reference, no skill
    with pytest.raises(ValueError, match="reference"):
        evaluate_split(actual, {}, ["load"], 15, history=history, reference=seasonal(7))


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
    assert [row.rank for row in tables.ranking(Metric.RMSE)] == [1, 1, 1]
    comparison = compare_with_baselines(tables, Metric.RMSE)
    assert comparison.best_baseline is None and comparison.best_model == ""
    assert comparison.best_baseline_value.undefined_reason == "no baseline has a value: empty split"
