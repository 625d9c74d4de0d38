"""The metric layer's rows as tsforge.evaluation.v1 messages, and back to CSV.

One place knows both the domain rows (tables.py, comparison.py) and the proto layout,
so the servicer and the store only ever see MetricTable messages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from services.evaluation.baselines import Baseline
from services.evaluation.comparison import mean_over_features, rank
from services.evaluation.metric_tables import MetricRow, SplitTables
from services.evaluation.metrics import Metric, MetricValue
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er

METRIC_COLUMNS = tuple(metric.name.lower() for metric in Metric)


def score_messages(values: Mapping[Metric, MetricValue]) -> list[er.MetricScore]:
    """One MetricScore per metric, in Metric order."""
    return [er.MetricScore(metric=int(metric), value=value_message(values[metric])) for metric in Metric]


def value_message(value: MetricValue) -> er.MetricValue:
    if value.defined:
        return er.MetricValue(value=value.value)
    return er.MetricValue(undefined_reason=value.undefined_reason)


def split_table_messages(
    tables: SplitTables, split: int, units: int, model_types: Mapping[str, int]
) -> list[er.MetricTable]:
    """Every table of one split in one unit: OVERALL, PER_STEP, AGGREGATED, SKILL, and a
    RANKING for each metric."""

    def rows(kind: int, source: Sequence[MetricRow]) -> er.MetricTable:
        table = er.MetricTable(kind=kind, split=split, units=units)
        for row in source:
            table.rows.add(
                model=row.model,
                model_type=model_types.get(row.model, 0),
                baseline=int(row.baseline or 0),
                feature=row.feature,
                step=row.step,
                aggregation_steps=row.aggregation_steps,
                step_width_minutes=row.step_width_minutes,
                scores=score_messages(row.scores.values),
            )
        return table

    messages = [
        rows(er.METRIC_TABLE_KIND_OVERALL, tables.overall),
        rows(er.METRIC_TABLE_KIND_PER_STEP, tables.per_step),
        rows(er.METRIC_TABLE_KIND_AGGREGATED, tables.aggregated),
    ]
    skill = er.MetricTable(kind=er.METRIC_TABLE_KIND_SKILL, split=split, units=units)
    for row in tables.skill():
        skill.rows.add(
            model=row.model,
            model_type=model_types.get(row.model, 0),
            baseline=int(row.baseline),
            feature=row.feature,
            scores=score_messages(row.skill),
        )
    messages.append(skill)
    messages += [ranking_message(tables, metric, split, units, model_types) for metric in Metric]
    return messages


def ranking_message(
    tables: SplitTables, metric: Metric, split: int, units: int, model_types: Mapping[str, int]
) -> er.MetricTable:
    """The RANKING table by `metric`: each row's scores are every metric averaged over
    the output features (comparison.mean_over_features); the rank is by `metric`'s."""
    per_forecast: dict[tuple[str, Baseline | None], dict[Metric, list[MetricValue]]] = {}
    for row in tables.overall:
        cells = per_forecast.setdefault((row.model, row.baseline), {m: [] for m in Metric})
        for m in Metric:
            cells[m].append(row.scores[m])
    means = {key: {m: mean_over_features(values) for m, values in cells.items()} for key, cells in per_forecast.items()}
    table = er.MetricTable(kind=er.METRIC_TABLE_KIND_RANKING, split=split, units=units, rank_metric=int(metric))
    for place in rank({key: values[metric] for key, values in means.items()}):
        model, baseline = place.key
        table.rows.add(
            model=model,
            model_type=model_types.get(model, 0),
            baseline=int(baseline or 0),
            rank=place.rank,
            scores=score_messages(means[place.key]),
        )
    return table


def table_csv(table: er.MetricTable) -> bytes:
    """The table as CSV: step_width_minutes first (AGGREGATED only), then model,
    model_type, baseline, feature, step, aggregation_steps, rank and one column per
    metric (lower-case names); undefined values are empty cells."""
    aggregated = table.kind == er.METRIC_TABLE_KIND_AGGREGATED
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["model", "model_type", "baseline", "feature", "step", "aggregation_steps", "rank", *METRIC_COLUMNS]
    writer.writerow((["step_width_minutes"] if aggregated else []) + header)
    for row in table.rows:
        values = {score.metric: score.value for score in row.scores}
        cells = [
            row.model,
            _short(common_pb2.ModelType.Name(row.model_type)) if row.model_type else "",
            _short(er.Baseline.Name(row.baseline)) if row.baseline else "",
            row.feature,
            row.step,
            row.aggregation_steps,
            row.rank,
            *(repr(values[m].value) if m in values and values[m].HasField("value") else "" for m in Metric),
        ]
        writer.writerow(([repr(row.step_width_minutes)] if aggregated else []) + cells)
    return buffer.getvalue().encode()


def _short(enum_name: str) -> str:
    """ "MODEL_TYPE_LINEAR_REGRESSION" -> "linear_regression", "BASELINE_NAIVE" -> "naive"."""
    for prefix in ("MODEL_TYPE_", "BASELINE_"):
        if enum_name.startswith(prefix):
            return enum_name[len(prefix) :].lower()
    return enum_name.lower()
