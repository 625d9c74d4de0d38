"""What a request to the evaluation service asks for, validated: the options that
make an evaluation (with tenant, run and model, its identity) and the table a read
selects. Every bad field is reported at once, as InvalidArgument."""

from __future__ import annotations

from dataclasses import dataclass

from services.evaluation.compute import EVALUATED_SPLITS, MAX_SEASON_STEPS
from services.evaluation.metrics import Metric
from tsforge.common.v1 import common_pb2
from tsforge.core.errors import FieldViolation, InvalidArgument
from tsforge.core.names import parse_model_name, parse_name
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er

DEFAULT_TABLE_PAGE = 1000
MAX_TABLE_PAGE = 10_000
MAX_SEASONS = 16  # extra seasons per request: each is one more baseline in every table
DEFAULT_BASELINE_METRIC = Metric.MAE


@dataclass(frozen=True)
class RequestedOptions:
    """Validated EvaluationOptions: with tenant, run and model, an evaluation's identity.
    seasons ascending and unique; baseline_metric resolved (MAE when unspecified)."""

    season_steps: int
    infer_season: bool
    seasons: tuple[int, ...]
    baseline_metric: int


@dataclass(frozen=True)
class TableSelection:
    """A validated MetricTableSelector."""

    kind: int
    split: int
    units: int
    rank_metric: int
    models: frozenset[str]
    features: frozenset[str]
    exclude_baselines: bool


def checked(violations: list[FieldViolation], check):
    """check()'s value, or None with its violations added to `violations`."""
    try:
        return check()
    except InvalidArgument as error:
        violations += error.violations
        return None


def table_page_size(requested: int) -> int:
    if not 0 <= requested <= MAX_TABLE_PAGE:
        raise InvalidArgument(FieldViolation("page_size", f"must be between 0 and {MAX_TABLE_PAGE}"))
    return requested or DEFAULT_TABLE_PAGE


def selection(selector, evaluation: er.Evaluation | None, violations: list[FieldViolation]) -> TableSelection:
    """The MetricTableSelector with defaults filled in; problems go to `violations`."""
    field = "table."
    if selector.kind == er.METRIC_TABLE_KIND_UNSPECIFIED or selector.kind not in er.MetricTableKind.values():
        violations.append(
            FieldViolation(field + "kind", "is required: OVERALL, PER_STEP, AGGREGATED, SKILL, RANKING or INTERVALS")
        )
    split = selector.split or common_pb2.DATA_SPLIT_TEST
    if split not in EVALUATED_SPLITS:
        violations.append(FieldViolation(field + "split", "must be TEST or VALIDATION (unspecified: TEST)"))
    units = selector.units or er.VALUE_UNITS_ORIGINAL
    if units not in er.ValueUnits.values():
        violations.append(FieldViolation(field + "units", "must be ORIGINAL or SCALED"))
    rank_metric = 0
    if selector.kind == er.METRIC_TABLE_KIND_RANKING:
        rank_metric = selector.rank_metric or er.METRIC_RMSE
        if rank_metric not in er.Metric.values():
            violations.append(FieldViolation(field + "rank_metric", "is not a metric"))
    if evaluation is not None:
        unknown = sorted(set(selector.models) - set(evaluation.models))
        if unknown:
            violations.append(FieldViolation(field + "models", f"not evaluated here: {', '.join(unknown)}"))
        unknown = sorted(set(selector.features) - set(evaluation.features))
        if unknown:
            violations.append(FieldViolation(field + "features", f"not output features here: {', '.join(unknown)}"))
    return TableSelection(
        selector.kind,
        split,
        units,
        rank_metric,
        frozenset(selector.models),
        frozenset(selector.features),
        selector.exclude_baselines,
    )


def keep(row: er.MetricTableRow, selection: TableSelection) -> bool:
    """Whether a table row passes the selector's filters."""
    if row.baseline and not row.model:
        if selection.exclude_baselines:
            return False
    elif selection.models and row.model not in selection.models:
        return False
    return not (selection.features and row.feature and row.feature not in selection.features)


def validate_create(request: er.Evaluation) -> tuple[str, str, RequestedOptions]:
    """The run id, model and options a CreateEvaluation asks for. Raises InvalidArgument."""
    violations = []
    run_id = ""
    try:
        run_id = parse_name(request.run, "runs", "evaluation.run")
    except InvalidArgument as error:
        violations += error.violations
    model = request.model
    if model:
        try:
            model_run, _ = parse_model_name(model, "evaluation.model")
            if run_id and model_run != run_id:
                violations.append(FieldViolation("evaluation.model", f"must be a model of {request.run}"))
        except InvalidArgument as error:
            violations += error.violations
    options = request.options
    season = options.season_steps
    if not 0 <= season <= MAX_SEASON_STEPS:
        violations.append(
            FieldViolation(
                "evaluation.options.season_steps",
                f"must be between 0 and {MAX_SEASON_STEPS} (the most history ReadPredictions serves; 0: none given)",
            )
        )
    bad = sorted({m for m in options.seasons if not 1 <= m <= MAX_SEASON_STEPS})
    if bad:
        violations.append(
            FieldViolation("evaluation.options.seasons", f"each must be between 1 and {MAX_SEASON_STEPS}, got {bad}")
        )
    if len(set(options.seasons)) > MAX_SEASONS:
        violations.append(FieldViolation("evaluation.options.seasons", f"at most {MAX_SEASONS} seasons"))
    metric = options.baseline_metric or DEFAULT_BASELINE_METRIC
    if metric not in er.Metric.values():
        violations.append(FieldViolation("evaluation.options.baseline_metric", "is not a metric"))
    elif metric == er.METRIC_MASE:
        violations.append(
            FieldViolation(
                "evaluation.options.baseline_metric", "MASE cannot pick the baseline: its scale depends on that choice"
            )
        )
    if violations:
        raise InvalidArgument(violations)
    requested = RequestedOptions(
        season_steps=season,
        infer_season=options.infer_season and season == 0,
        seasons=tuple(sorted(set(options.seasons))),
        baseline_metric=int(metric),
    )
    return run_id, model, requested
