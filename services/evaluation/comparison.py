"""Comparing forecasts: skill against a baseline, and a ranking by one metric."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from services.evaluation.metrics import Metric, MetricValue, Scores


def skill(model: MetricValue, baseline: MetricValue) -> MetricValue:
    """1 − model / baseline for an error metric (higher is better: 1 is perfect, 0 is no
    better than the baseline, negative is worse). Undefined when either value is, and when
    the baseline's error is 0: a perfect baseline leaves nothing to be skilful about, and
    the ratio would be ±infinity (or 0/0 for a perfect model)."""
    if not model.defined:
        return MetricValue.undefined(f"model: {model.undefined_reason}")
    if not baseline.defined:
        return MetricValue.undefined(f"baseline: {baseline.undefined_reason}")
    if baseline.value == 0:
        return MetricValue.undefined("baseline's error is 0")
    return MetricValue.of(1.0 - model.number / baseline.number)


def skill_scores(
    model: Scores | Mapping[Metric, MetricValue], baseline: Scores | Mapping[Metric, MetricValue]
) -> dict[Metric, MetricValue]:
    """`skill` of every metric of one cell against the same cell of a baseline."""
    return {metric: skill(model[metric], baseline[metric]) for metric in Metric}


def mean_over_features(values: Sequence[MetricValue]) -> MetricValue:
    """The mean of one metric over the output features; undefined (with the first reason)
    when any feature's value is, or when there are no features."""
    if not values:
        return MetricValue.undefined("no output features")
    for value in values:
        if not value.defined:
            return value
    return MetricValue.of(sum(value.number for value in values) / len(values))


@dataclass(frozen=True, slots=True)
class Ranked:
    """One place of a ranking: 1 is the best; equal values share a rank."""

    rank: int
    key: Hashable
    value: MetricValue


def rank(values: Mapping[Hashable, MetricValue]) -> list[Ranked]:
    """Orders the candidates by value, lowest (best) first. Equal values share a rank and
    the next rank skips (1, 1, 3: competition ranking); undefined values come last and
    share the rank after the defined ones. Within a rank, the input order is kept."""
    defined = sorted(
        (item for item in values.items() if item[1].defined),
        key=lambda item: item[1].number,
    )
    ranked: list[Ranked] = []
    place = 0
    for position, (key, value) in enumerate(defined, start=1):
        if not ranked or value.value != ranked[-1].value.value:
            place = position
        ranked.append(Ranked(place, key, value))
    last = len(defined) + 1
    ranked.extend(Ranked(last, key, value) for key, value in values.items() if not value.defined)
    return ranked
