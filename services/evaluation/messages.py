"""The metric layer's rows as tsforge.evaluation.v1 messages, and back to CSV.

One place knows both the domain rows (tables.py, comparison.py) and the proto layout,
so the servicer and the store only ever see MetricTable messages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import cast

from services.evaluation.baselines import BaselineKey
from services.evaluation.comparison import mean_over_features, rank, skill_scores
from services.evaluation.intervals import IntervalMetric, IntervalScores
from services.evaluation.metric_tables import BaselineComparison, MetricRow, SplitTables
from services.evaluation.metrics import Metric, MetricValue
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er

METRIC_COLUMNS = tuple(metric.name.lower() for metric in Metric)
INTERVAL_COLUMNS = tuple(metric.name.lower() for metric in IntervalMetric)


def score_messages(values: Mapping[Metric, MetricValue]) -> list[er.MetricScore]:
    """One MetricScore per metric, in Metric order."""
    return [er.MetricScore(metric=int(metric), value=value_message(values[metric])) for metric in Metric]


def value_message(value: MetricValue) -> er.MetricValue:
    if value.defined:
        return er.MetricValue(value=value.value)
    return er.MetricValue(undefined_reason=value.undefined_reason)


def baseline_message(key: BaselineKey, step_minutes: float) -> er.BaselineForecast:
    """The BaselineForecast of a baseline; step_minutes (of the first output feature)
    names its season in time."""
    return er.BaselineForecast(baseline=int(key.baseline), season_steps=key.season_steps, label=key.label(step_minutes))


def comparison_message(comparison: BaselineComparison, units: int, step_minutes: float) -> er.BaselineComparison:
    message = er.BaselineComparison(
        metric=int(comparison.metric),
        units=units,
        best_baseline_value=value_message(comparison.best_baseline_value),
        models_beating_baseline=comparison.models_beating,
        best_model=comparison.best_model,
        best_model_value=value_message(comparison.best_model_value),
    )
    if comparison.best_baseline is not None:
        message.best_baseline.CopyFrom(baseline_message(comparison.best_baseline, step_minutes))
    return message


def _baseline_fields(key: BaselineKey | None, step_minutes: float) -> dict:
    if key is None:
        return {}
    return {"baseline": int(key.baseline), "season_steps": key.season_steps, "baseline_label": key.label(step_minutes)}


def split_table_messages(
    tables: SplitTables, split: int, units: int, model_types: Mapping[str, int], step_minutes: float = 0.0
) -> list[er.MetricTable]:
    """Every table of one split in one unit: OVERALL, PER_STEP, AGGREGATED, SKILL, and a
    RANKING for each metric, each naming the reference baseline. step_minutes (of the
    first output feature) names the seasons in time in the labels."""

    def table(kind: int, rank_metric: int = 0) -> er.MetricTable:
        message = er.MetricTable(kind=kind, split=split, units=units, rank_metric=rank_metric)
        if tables.reference is not None:
            message.reference_baseline.CopyFrom(baseline_message(tables.reference, step_minutes))
        return message

    def rows(kind: int, source: Sequence[MetricRow]) -> er.MetricTable:
        message = table(kind)
        for row in source:
            message.rows.add(
                model=row.model,
                model_type=model_types.get(row.model, 0),
                feature=row.feature,
                step=row.step,
                aggregation_steps=row.aggregation_steps,
                step_width_minutes=row.step_width_minutes,
                scores=score_messages(row.scores.values),
                skill=score_messages(row.skill) if row.skill is not None else [],
                **_baseline_fields(row.baseline, step_minutes),
            )
        return message

    messages = [
        rows(er.METRIC_TABLE_KIND_OVERALL, tables.overall),
        rows(er.METRIC_TABLE_KIND_PER_STEP, tables.per_step),
        rows(er.METRIC_TABLE_KIND_AGGREGATED, tables.aggregated),
    ]
    skill = table(er.METRIC_TABLE_KIND_SKILL)
    for row in tables.skill():
        skill.rows.add(
            model=row.model,
            model_type=model_types.get(row.model, 0),
            feature=row.feature,
            scores=score_messages(row.skill),
            **_baseline_fields(row.baseline, step_minutes),
        )
    messages.append(skill)
    messages += [ranking_message(tables, metric, split, units, model_types, step_minutes) for metric in Metric]
    return messages


def ranking_message(
    tables: SplitTables,
    metric: Metric,
    split: int,
    units: int,
    model_types: Mapping[str, int],
    step_minutes: float = 0.0,
) -> er.MetricTable:
    """The RANKING table by `metric`: each row's scores are every metric averaged over
    the output features (comparison.mean_over_features); the rank is by `metric`'s; the
    skill is of those means against the reference baseline's."""
    per_forecast: dict[tuple[str, BaselineKey | None], dict[Metric, list[MetricValue]]] = {}
    for row in tables.overall:
        cells = per_forecast.setdefault((row.model, row.baseline), {m: [] for m in Metric})
        for m in Metric:
            cells[m].append(row.scores[m])
    means = {key: {m: mean_over_features(values) for m, values in cells.items()} for key, cells in per_forecast.items()}
    reference = means.get(("", tables.reference)) if tables.reference is not None else None
    table = er.MetricTable(kind=er.METRIC_TABLE_KIND_RANKING, split=split, units=units, rank_metric=int(metric))
    if tables.reference is not None:
        table.reference_baseline.CopyFrom(baseline_message(tables.reference, step_minutes))
    for place in rank({key: values[metric] for key, values in means.items()}):
        model, baseline = cast(tuple[str, BaselineKey | None], place.key)
        row_means = means[model, baseline]
        table.rows.add(
            model=model,
            model_type=model_types.get(model, 0),
            rank=place.rank,
            scores=score_messages(row_means),
            skill=[
                er.MetricScore(metric=int(m), value=value_message(v))
                for m, v in skill_scores(row_means, reference).items()
            ]
            if reference is not None
            else [],
            **_baseline_fields(baseline, step_minutes),
        )
    return table


def interval_table_message(
    intervals: Mapping[str, IntervalScores],
    features: Sequence[str],
    split: int,
    units: int,
    model_types: Mapping[str, int],
) -> er.MetricTable:
    """The INTERVALS table: per model (in the order given), feature, level and step (0:
    all steps, then 1..output_steps), every interval metric."""
    table = er.MetricTable(kind=er.METRIC_TABLE_KIND_INTERVALS, split=split, units=units)
    for model, scores in intervals.items():
        for f, feature in enumerate(features):
            for index, level in enumerate(scores.levels):
                cells = [scores.overall[index][f], *(step[f] for step in scores.per_step[index])]
                for step, cell in enumerate(cells):
                    table.rows.add(
                        model=model,
                        model_type=model_types.get(model, 0),
                        feature=feature,
                        step=step,
                        interval_level=level,
                        interval_scores=[
                            er.IntervalScore(metric=int(metric), value=value_message(cell[metric]))
                            for metric in IntervalMetric
                        ],
                    )
    return table


def table_csv(table: er.MetricTable) -> bytes:
    """The table as CSV: step_width_minutes first (AGGREGATED only), then model,
    model_type, baseline, season_steps, baseline_label, feature, step,
    aggregation_steps, rank, one column per metric (lower-case names) and, but in SKILL
    tables, skill_<metric> against the reference baseline. INTERVALS tables: model,
    model_type, feature, step, interval_level and one column per interval metric.
    Undefined values are empty cells."""
    if table.kind == er.METRIC_TABLE_KIND_INTERVALS:
        return _intervals_csv(table)
    aggregated = table.kind == er.METRIC_TABLE_KIND_AGGREGATED
    with_skill = table.kind != er.METRIC_TABLE_KIND_SKILL
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = [
        "model",
        "model_type",
        "baseline",
        "season_steps",
        "baseline_label",
        "feature",
        "step",
        "aggregation_steps",
        "rank",
        *METRIC_COLUMNS,
        *((f"skill_{column}" for column in METRIC_COLUMNS) if with_skill else ()),
    ]
    writer.writerow((["step_width_minutes"] if aggregated else []) + header)
    for row in table.rows:
        cells = [
            row.model,
            _model_type(row.model_type),
            _short(er.Baseline.Name(row.baseline)) if row.baseline else "",
            row.season_steps or "",
            row.baseline_label,
            row.feature,
            row.step,
            row.aggregation_steps,
            row.rank,
            *_values(row.scores, Metric),
            *(_values(row.skill, Metric) if with_skill else ()),
        ]
        writer.writerow(([repr(row.step_width_minutes)] if aggregated else []) + cells)
    return buffer.getvalue().encode()


def _intervals_csv(table: er.MetricTable) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", "model_type", "feature", "step", "interval_level", *INTERVAL_COLUMNS])
    for row in table.rows:
        writer.writerow(
            [
                row.model,
                _model_type(row.model_type),
                row.feature,
                row.step,
                repr(row.interval_level),
                *_values(row.interval_scores, IntervalMetric),
            ]
        )
    return buffer.getvalue().encode()


def _values(scores, metrics) -> list[str]:
    """One cell per metric: the value's repr, or empty when undefined or absent."""
    values = {score.metric: score.value for score in scores}
    return [repr(values[m].value) if m in values and values[m].HasField("value") else "" for m in metrics]


def _model_type(model_type: int) -> str:
    return _short(common_pb2.ModelType.Name(model_type)) if model_type else ""


def _short(enum_name: str) -> str:
    """ "MODEL_TYPE_LINEAR_REGRESSION" -> "linear_regression", "BASELINE_NAIVE" -> "naive"."""
    for prefix in ("MODEL_TYPE_", "BASELINE_"):
        if enum_name.startswith(prefix):
            return enum_name[len(prefix) :].lower()
    return enum_name.lower()
