"""An evaluation computed from a fake training service: tables, units, baselines for
every season, the strongest one named, and prediction intervals."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from services.evaluation.baselines import Baseline, BaselineKey
from services.evaluation.compute import compute_evaluation, plan_baselines
from services.evaluation.messages import table_csv
from services.evaluation.metrics import Metric
from services.evaluation.tests.fake_training import FakeTraining, seasonal_training, weekly_training
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.training.v1 import training_resources_pb2 as tr

TEST, VALIDATION = common_pb2.DATA_SPLIT_TEST, common_pb2.DATA_SPLIT_VALIDATION
DAILY, WEEKLY = BaselineKey(Baseline.SEASONAL_NAIVE, 24), BaselineKey(Baseline.SEASONAL_NAIVE, 168)


def _compute(fake: FakeTraining, season_steps: int = 0, seasons=(), metric: Metric = Metric.MAE):
    run = fake.get_run(fake.tenant, "runs/run1")
    dataset = fake.get_dataset(fake.tenant, run.dataset)
    plan = plan_baselines(season_steps, seasons, metric, dataset)
    return compute_evaluation(fake, fake.tenant, list(run.models), plan)


def _computed(season: int = 4):
    fake = seasonal_training("t1", season=season)
    return fake, _compute(fake, season_steps=season)


def _table(computed, kind, split=TEST, units=er.VALUE_UNITS_ORIGINAL, rank_metric=0) -> er.MetricTable:
    return next(
        t for t in computed.tables if (t.kind, t.split, t.units, t.rank_metric) == (kind, split, units, rank_metric)
    )


def _score(row: er.MetricTableRow, metric: int, field: str = "scores") -> er.MetricValue:
    return next(s.value for s in getattr(row, field) if s.metric == metric)


def test_every_table_for_both_splits_and_units():
    _, computed = _computed()
    assert computed.models == ("runs/run1/models/exact", "runs/run1/models/off")
    assert computed.features == ("load",)
    kinds = {(t.kind, t.split, t.units) for t in computed.tables}
    for split in (TEST, VALIDATION):
        for units in (er.VALUE_UNITS_ORIGINAL, er.VALUE_UNITS_SCALED):
            for kind in range(1, len(er.MetricTableKind.keys())):
                assert (kind, split, units) in kinds
    rankings = [
        t
        for t in computed.tables
        if t.kind == er.METRIC_TABLE_KIND_RANKING and t.split == TEST and t.units == er.VALUE_UNITS_ORIGINAL
    ]
    assert sorted(t.rank_metric for t in rankings) == list(range(1, 10))
    # Neither model has intervals: the INTERVALS tables are there, empty.
    assert not _table(computed, er.METRIC_TABLE_KIND_INTERVALS).rows


def test_seasonal_naive_is_perfect_on_a_seasonal_series_and_units_scale():
    _, computed = _computed()
    # The given season 4 and the implied day (24 hourly steps) are both baselines.
    assert computed.baselines == (
        BaselineKey(Baseline.NAIVE),
        BaselineKey(Baseline.SEASONAL_NAIVE, 4),
        DAILY,
        BaselineKey(Baseline.TRAINING_MEAN),
    )
    overall = _table(computed, er.METRIC_TABLE_KIND_OVERALL)
    by_forecast = {(row.model, row.baseline, row.season_steps): row for row in overall.rows}
    assert _score(by_forecast["runs/run1/models/exact", 0, 0], er.METRIC_MAE).value == 0
    assert _score(by_forecast["runs/run1/models/off", 0, 0], er.METRIC_MAE).value == pytest.approx(1.0)
    assert _score(by_forecast["", er.BASELINE_SEASONAL_NAIVE, 4], er.METRIC_MAE).value == 0
    assert by_forecast["", er.BASELINE_SEASONAL_NAIVE, 24].baseline_label == "seasonal naive (1 day = 24 steps)"
    assert by_forecast["", er.BASELINE_SEASONAL_NAIVE, 4].baseline_label == "seasonal naive (4 h = 4 steps)"
    assert _score(by_forecast["", er.BASELINE_NAIVE, 0], er.METRIC_MAE).value > 0
    assert by_forecast["", er.BASELINE_TRAINING_MEAN, 0].model_type == 0
    scaled = _table(computed, er.METRIC_TABLE_KIND_OVERALL, units=er.VALUE_UNITS_SCALED)
    off = next(row for row in scaled.rows if row.model.endswith("/off"))
    assert _score(off, er.METRIC_MAE).value == pytest.approx(0.01)
    # MASE: the given season's in-sample error is 0, so MASE is undefined with a reason.
    mase = _score(off, er.METRIC_MASE)
    assert not mase.HasField("value") and "0" in mase.undefined_reason
    assert computed.season_steps == 4


def test_the_strongest_baseline_is_named_in_every_table_and_skill_is_against_it():
    _, computed = _computed()
    # Seasonal naive 4 and 24 are both perfect: the tie goes to the first, m = 4.
    assert computed.comparison.best_baseline == BaselineKey(Baseline.SEASONAL_NAIVE, 4)
    for table in computed.tables:
        if table.kind != er.METRIC_TABLE_KIND_INTERVALS:
            assert (table.reference_baseline.baseline, table.reference_baseline.season_steps) == (2, 4), table.kind
    overall = _table(computed, er.METRIC_TABLE_KIND_OVERALL)
    # A perfect reference leaves nothing to be skilful about: undefined, with the reason.
    off = next(row for row in overall.rows if row.model.endswith("/off"))
    assert _score(off, er.METRIC_MAE, "skill").undefined_reason == "baseline's error is 0"
    assert not _table(computed, er.METRIC_TABLE_KIND_SKILL).rows[0].skill


def test_skill_ranking_per_step_and_aggregated_rows():
    _, computed = _computed()
    skill = _table(computed, er.METRIC_TABLE_KIND_SKILL)
    assert {(r.model.rsplit("/", 1)[1], r.baseline, r.season_steps) for r in skill.rows} == {
        (m, b, s) for m in ("exact", "off") for b, s in ((1, 0), (2, 4), (2, 24), (3, 0))
    }
    against_mean = next(r for r in skill.rows if r.model.endswith("/exact") and r.baseline == er.BASELINE_TRAINING_MEAN)
    assert _score(against_mean, er.METRIC_MAE).value == pytest.approx(1.0)
    ranking = _table(computed, er.METRIC_TABLE_KIND_RANKING, rank_metric=er.METRIC_MAE)
    assert ranking.rows[0].rank == 1 and ranking.rows[0].model in ("runs/run1/models/exact", "")
    assert [r.rank for r in ranking.rows] == sorted(r.rank for r in ranking.rows)
    assert all(len(r.skill) == 9 for r in ranking.rows)
    per_step = _table(computed, er.METRIC_TABLE_KIND_PER_STEP)
    assert sorted({r.step for r in per_step.rows}) == [1, 2, 3]
    aggregated = _table(computed, er.METRIC_TABLE_KIND_AGGREGATED)
    assert sorted({(r.aggregation_steps, r.step_width_minutes) for r in aggregated.rows}) == [
        (1, 60.0),
        (2, 120.0),
        (3, 180.0),
    ]


def test_history_is_asked_for_once_per_split_with_the_longest_season():
    fake, _ = _computed(season=4)
    assert sorted(fake.history_requests) == [0, 0, 24, 24, 24]


def test_csv_puts_step_width_first_for_aggregated_tables_and_leaves_undefined_cells_empty():
    _, computed = _computed()
    rows = list(csv.DictReader(io.StringIO(table_csv(_table(computed, er.METRIC_TABLE_KIND_AGGREGATED)).decode())))
    assert list(rows[0])[:6] == [
        "step_width_minutes",
        "model",
        "model_type",
        "baseline",
        "season_steps",
        "baseline_label",
    ]
    assert list(rows[0])[-18:-9] == ["mae", "mape", "mse", "rmse", "nrmse_mean", "nrmse_range", "wape", "smape", "mase"]
    assert list(rows[0])[-1] == "skill_mase"
    assert rows[0]["step_width_minutes"] == "60.0"
    assert rows[0]["mase"] == ""  # MASE undefined here
    overall = list(csv.DictReader(io.StringIO(table_csv(_table(computed, er.METRIC_TABLE_KIND_OVERALL)).decode())))
    assert {(r["baseline"], r["season_steps"]) for r in overall} == {
        ("", ""),
        ("naive", ""),
        ("seasonal_naive", "4"),
        ("seasonal_naive", "24"),
        ("training_mean", ""),
    }
    skill = list(csv.DictReader(io.StringIO(table_csv(_table(computed, er.METRIC_TABLE_KIND_SKILL)).decode())))
    assert "skill_mae" not in skill[0]


def _dataset(step_minutes: float, samples: int, window_minutes: int | None = None) -> tr.Dataset:
    dataset = tr.Dataset(y_shape=[samples, 6, 1], train_sample_count=samples)
    dataset.spec.outputs.add(feature="load", horizon=common_pb2.HorizonHours(start=0, end=6 * step_minutes / 60))
    dataset.spec.window.step_minutes = window_minutes or round(step_minutes)
    return dataset


@pytest.mark.parametrize(
    ("step_minutes", "days", "given", "seasons", "expected"),
    [
        (60, 7, 0, (), (24,)),  # a day of hourly steps; a week of data is too little for a week
        (60, 21, 0, (), (24, 168)),  # 21 days of reference times: the week too
        (30, 30, 0, (), (48, 336)),
        (15, 30, 0, (), (96, 672)),
        (60, 30, 7, (12, 24, 1), (7, 12, 24, 168)),  # given ones join, each once; 1 is naive
        (7 * 60, 30, 0, (), (24,)),  # 7-hour steps: a day is not whole, a week is 24 of them
        (25, 30, 0, (), ()),  # 25 minutes: neither a day nor a week is whole
        (1440, 30, 0, (), (7,)),  # daily steps: a day is the naive forecast, a week 7
        (1, 30, 0, (), (1440,)),  # minutes: a week (10080) is more history than there is
    ],
)
def test_seasons_implied_by_the_step_and_the_data_plus_the_given_ones(step_minutes, days, given, seasons, expected):
    samples = round(days * 1440 / step_minutes) + 1
    plan = plan_baselines(given, seasons, Metric.MAE, _dataset(step_minutes, samples))
    assert plan.seasons == expected
    assert plan.mase_season == (given or None)
    assert plan.history_steps == max((*expected, 1))


# ---------------------------------------------------------------------------
# A strong weekly cycle: the weekly seasonal naive is the baseline to beat.
# ---------------------------------------------------------------------------


def test_on_a_weekly_cycle_the_weekly_baseline_is_chosen_and_a_daily_only_model_does_not_beat_it():
    computed = _compute(weekly_training("t1", models=("daily",)))
    assert computed.baselines == (BaselineKey(Baseline.NAIVE), DAILY, WEEKLY, BaselineKey(Baseline.TRAINING_MEAN))
    comparison = computed.comparison
    assert comparison.best_baseline == WEEKLY
    assert comparison.models_beating == ()
    assert comparison.best_model == "runs/run1/models/daily"
    assert comparison.best_model_value.value > 3 * comparison.best_baseline_value.value
    # MASE takes the strongest season; skill is against the weekly baseline, and negative.
    assert computed.season_steps == 168
    overall = _table(computed, er.METRIC_TABLE_KIND_OVERALL, split=VALIDATION)
    daily = next(row for row in overall.rows if row.model)
    assert _score(daily, er.METRIC_MAE, "skill").value < 0
    # Against the daily baseline (the old default) the same model is exactly as good.
    skill = _table(computed, er.METRIC_TABLE_KIND_SKILL, split=VALIDATION)
    against_daily = next(row for row in skill.rows if row.season_steps == 24)
    assert _score(against_daily, er.METRIC_MAE).value == 0.0
    assert overall.reference_baseline.label == "seasonal naive (1 week = 168 steps)"


def test_a_model_that_beats_the_weekly_baseline_is_listed():
    computed = _compute(weekly_training("t1", models=("daily", "good")))
    assert computed.comparison.best_baseline == WEEKLY
    assert computed.comparison.models_beating == ("runs/run1/models/good",)
    assert computed.comparison.best_model == "runs/run1/models/good"


def test_every_row_scores_the_same_pairs_as_the_weekly_baseline():
    computed = _compute(weekly_training("t1", models=("daily",)))
    overall = _table(computed, er.METRIC_TABLE_KIND_OVERALL, split=VALIDATION)
    # Validation follows three weeks of data: every sample has a week of history.
    assert {row.scores[0].value.HasField("value") for row in overall.rows} == {True}


def test_an_explicit_season_is_the_mase_season_and_the_metric_picks_the_baseline():
    computed = _compute(weekly_training("t1"), season_steps=24, metric=Metric.RMSE)
    assert computed.season_steps == 24
    assert computed.comparison.metric is Metric.RMSE and computed.comparison.best_baseline == WEEKLY


def test_an_empty_validation_split_leaves_no_baseline_and_says_why():
    fake = weekly_training("t1")
    validation = fake.splits[VALIDATION]
    validation.actual, validation.history = validation.actual[:0], validation.history[:0]
    fake.predictions["daily"][VALIDATION] = fake.predictions["daily"][VALIDATION][:0]
    computed = _compute(fake)
    assert computed.comparison.best_baseline is None
    assert "empty split" in computed.comparison.best_baseline_value.undefined_reason
    assert computed.season_steps == 1
    assert not _table(computed, er.METRIC_TABLE_KIND_OVERALL).HasField("reference_baseline")


# ---------------------------------------------------------------------------
# Prediction intervals.
# ---------------------------------------------------------------------------


def test_intervals_are_scored_per_model_feature_level_and_step_in_both_units():
    fake = weekly_training("t1", models=("daily", "good"))
    levels = (0.8, 0.95)
    z = {0.8: 1.2815515655446004, 0.95: 1.959963984540054}
    bounds = {}
    for split, predicted in fake.predictions["good"].items():
        width = np.stack([np.full(predicted.shape, z[level] * 0.3) for level in levels], axis=1)
        bounds[split] = (predicted[:, None] - width, predicted[:, None] + width)
    fake.intervals["good"] = (levels, bounds)
    computed = _compute(fake)
    table = _table(computed, er.METRIC_TABLE_KIND_INTERVALS)
    assert {row.model for row in table.rows} == {"runs/run1/models/good"}
    assert [(row.interval_level, row.step) for row in table.rows] == [(lv, k) for lv in levels for k in range(7)]
    overall = {row.interval_level: row for row in table.rows if row.step == 0}
    # The noise is N(0, 0.3): the intervals cover about their level, in either unit.
    for level in levels:
        coverage = _score(overall[level], er.INTERVAL_METRIC_COVERAGE, "interval_scores").value
        assert coverage == pytest.approx(level, abs=0.04)
        width = _score(overall[level], er.INTERVAL_METRIC_MEAN_WIDTH, "interval_scores").value
        assert width == pytest.approx(2 * z[level] * 0.3)
    scaled = _table(computed, er.METRIC_TABLE_KIND_INTERVALS, units=er.VALUE_UNITS_SCALED)
    scaled_overall = next(row for row in scaled.rows if row.step == 0 and row.interval_level == 0.8)
    assert _score(scaled_overall, er.INTERVAL_METRIC_MEAN_WIDTH, "interval_scores").value == pytest.approx(
        2 * z[0.8] * 0.3 / 100
    )
    assert _score(scaled_overall, er.INTERVAL_METRIC_COVERAGE, "interval_scores") == _score(
        overall[0.8], er.INTERVAL_METRIC_COVERAGE, "interval_scores"
    )
    rows = list(csv.DictReader(io.StringIO(table_csv(table).decode())))
    assert list(rows[0]) == [
        "model",
        "model_type",
        "feature",
        "step",
        "interval_level",
        "coverage",
        "mean_width",
        "pinball",
        "winkler",
    ]
