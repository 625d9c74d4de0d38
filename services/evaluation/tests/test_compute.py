"""An evaluation computed from a fake training service: tables, units, baselines, season."""

from __future__ import annotations

import csv
import io

import pytest

from services.evaluation.compute import compute_evaluation, resolve_season
from services.evaluation.messages import table_csv
from services.evaluation.tests.fake_training import seasonal_training
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.training.v1 import training_resources_pb2 as tr

TEST, VALIDATION = common_pb2.DATA_SPLIT_TEST, common_pb2.DATA_SPLIT_VALIDATION


def _computed(season: int = 4):
    fake = seasonal_training("t1", season=season)
    run = fake.get_run("t1", "runs/run1")
    return fake, compute_evaluation(fake, "t1", list(run.models), season)


def _table(computed, kind, split=TEST, units=er.VALUE_UNITS_ORIGINAL, rank_metric=0) -> er.MetricTable:
    return next(
        t for t in computed.tables if (t.kind, t.split, t.units, t.rank_metric) == (kind, split, units, rank_metric)
    )


def _score(row: er.MetricTableRow, metric: int) -> er.MetricValue:
    return next(s.value for s in row.scores if s.metric == metric)


def test_every_table_for_both_splits_and_units():
    _, computed = _computed()
    assert computed.models == ("runs/run1/models/exact", "runs/run1/models/off")
    assert computed.features == ("load",)
    kinds = {(t.kind, t.split, t.units) for t in computed.tables}
    for split in (TEST, VALIDATION):
        for units in (er.VALUE_UNITS_ORIGINAL, er.VALUE_UNITS_SCALED):
            for kind in (
                er.METRIC_TABLE_KIND_OVERALL,
                er.METRIC_TABLE_KIND_PER_STEP,
                er.METRIC_TABLE_KIND_AGGREGATED,
                er.METRIC_TABLE_KIND_SKILL,
                er.METRIC_TABLE_KIND_RANKING,
            ):
                assert (kind, split, units) in kinds
    rankings = [
        t
        for t in computed.tables
        if t.kind == er.METRIC_TABLE_KIND_RANKING and t.split == TEST and t.units == er.VALUE_UNITS_ORIGINAL
    ]
    assert sorted(t.rank_metric for t in rankings) == list(range(1, 10))


def test_seasonal_naive_is_perfect_on_a_seasonal_series_and_units_scale():
    _, computed = _computed()
    overall = _table(computed, er.METRIC_TABLE_KIND_OVERALL)
    by_forecast = {(row.model, row.baseline): row for row in overall.rows}
    assert _score(by_forecast["runs/run1/models/exact", 0], er.METRIC_MAE).value == 0
    assert _score(by_forecast["runs/run1/models/off", 0], er.METRIC_MAE).value == pytest.approx(1.0)
    assert _score(by_forecast["", er.BASELINE_SEASONAL_NAIVE], er.METRIC_MAE).value == 0
    assert _score(by_forecast["", er.BASELINE_NAIVE], er.METRIC_MAE).value > 0
    # Training mean is the scaler's data_mean, 50.
    assert by_forecast["", er.BASELINE_TRAINING_MEAN].model_type == 0
    scaled = _table(computed, er.METRIC_TABLE_KIND_OVERALL, units=er.VALUE_UNITS_SCALED)
    off = next(row for row in scaled.rows if row.model.endswith("/off"))
    assert _score(off, er.METRIC_MAE).value == pytest.approx(0.01)
    # MASE: the seasonal-naive in-sample error is 0, so MASE is undefined with a reason.
    mase = _score(off, er.METRIC_MASE)
    assert not mase.HasField("value") and "0" in mase.undefined_reason


def test_skill_ranking_per_step_and_aggregated_rows():
    _, computed = _computed()
    skill = _table(computed, er.METRIC_TABLE_KIND_SKILL)
    assert {(r.model.rsplit("/", 1)[1], r.baseline) for r in skill.rows} == {
        (m, b) for m in ("exact", "off") for b in (1, 2, 3)
    }
    against_mean = next(r for r in skill.rows if r.model.endswith("/exact") and r.baseline == er.BASELINE_TRAINING_MEAN)
    assert _score(against_mean, er.METRIC_MAE).value == pytest.approx(1.0)
    ranking = _table(computed, er.METRIC_TABLE_KIND_RANKING, rank_metric=er.METRIC_MAE)
    assert ranking.rows[0].rank == 1 and ranking.rows[0].model in ("runs/run1/models/exact", "")
    assert [r.rank for r in ranking.rows] == sorted(r.rank for r in ranking.rows)
    per_step = _table(computed, er.METRIC_TABLE_KIND_PER_STEP)
    assert sorted({r.step for r in per_step.rows}) == [1, 2, 3]
    aggregated = _table(computed, er.METRIC_TABLE_KIND_AGGREGATED)
    assert sorted({(r.aggregation_steps, r.step_width_minutes) for r in aggregated.rows}) == [
        (1, 60.0),
        (2, 120.0),
        (3, 180.0),
    ]


def test_history_is_asked_for_once_per_split_with_the_season():
    fake, _ = _computed(season=4)
    assert sorted(fake.history_requests) == [0, 0, 4, 4, 4]


def test_csv_puts_step_width_first_for_aggregated_tables_and_leaves_undefined_cells_empty():
    _, computed = _computed()
    rows = list(csv.reader(io.StringIO(table_csv(_table(computed, er.METRIC_TABLE_KIND_AGGREGATED)).decode())))
    assert rows[0][:3] == ["step_width_minutes", "model", "model_type"]
    assert rows[0][-9:] == ["mae", "mape", "mse", "rmse", "nrmse_mean", "nrmse_range", "wape", "smape", "mase"]
    assert rows[1][0] == "60.0"
    assert rows[1][-1] == ""  # MASE undefined here
    overall = list(csv.reader(io.StringIO(table_csv(_table(computed, er.METRIC_TABLE_KIND_OVERALL)).decode())))
    assert overall[0][0] == "model" and {r[2] for r in overall[1:]} == {"", "naive", "seasonal_naive", "training_mean"}


@pytest.mark.parametrize(
    ("season", "infer", "horizon_hours", "steps", "expected"),
    [
        (7, True, 3, 3, 7),  # given wins
        (0, False, 3, 3, 1),  # default
        (0, True, 3, 3, 24),  # hourly steps: a day is 24
        (0, True, 3, 12, 96),  # 15-minute steps
        (0, True, 7, 1, 1),  # 7-hour steps do not divide a day
    ],
)
def test_the_season_is_given_inferred_from_the_step_or_one(season, infer, horizon_hours, steps, expected):
    dataset = tr.Dataset(y_shape=[10, steps, 1])
    dataset.spec.outputs.add(feature="load", horizon=common_pb2.HorizonHours(start=0, end=horizon_hours))
    assert resolve_season(season, infer, dataset) == expected
