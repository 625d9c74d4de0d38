"""`tsforge eval RUN`: evaluate a run (queued, its progress followed live), print its
ranking and overall table, say whether any model beats the strongest baseline, and
write its plots."""

from __future__ import annotations

import click
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from tsforge.cli.client import Client, client_options
from tsforge.cli.plots import PlotOptions, plot_options, write_plots
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb

METRICS = tuple(name.removeprefix("METRIC_").lower() for name in er.Metric.keys()[1:])
SHOWN = ("mae", "mape", "rmse", "nrmse_mean", "wape", "smape", "mase")
INTERVAL_SHOWN = ("coverage", "mean_width", "pinball", "winkler")
MAX_SEASON_STEPS = 4096
TERMINAL = (er.EVALUATION_STATE_READY, er.EVALUATION_STATE_FAILED)


def _label(row: er.MetricTableRow) -> str:
    if row.model:
        return row.model.rsplit("/", 1)[-1]
    return "baseline: " + (row.baseline_label or _baseline_name(row.baseline))


def _baseline_name(baseline: int) -> str:
    return er.Baseline.Name(baseline).removeprefix("BASELINE_").lower().replace("_", " ")


def _metric(name: str) -> int:
    return er.Metric.Value(f"METRIC_{name.upper()}")


def _format(value: er.MetricValue) -> str:
    return f"{value.value:.4g}" if value.HasField("value") else "–"


def _cell(row: er.MetricTableRow, metric: str, field: str = "scores") -> str:
    for score in getattr(row, field):
        if score.metric == _metric(metric):
            return _format(score.value)
    return "–"


def _interval_cell(row: er.MetricTableRow, metric: str) -> str:
    wanted = er.IntervalMetric.Value(f"INTERVAL_METRIC_{metric.upper()}")
    return next((_format(s.value) for s in row.interval_scores if s.metric == wanted), "–")


@click.command("eval")
@click.argument("run_name", metavar="RUN")
@click.option("--model", default="", help="Evaluate only this model (runs/RUN/models/MODEL or MODEL).")
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    default="mae",
    show_default=True,
    help="Rank the models and baselines by this metric; it also picks the strongest baseline (MASE: MAE does).",
)
@click.option(
    "--season",
    "seasons",
    type=click.IntRange(1, MAX_SEASON_STEPS),
    multiple=True,
    help="Another season in forecast steps for a seasonal-naive baseline (repeatable). One day, and one week "
    "when the data spans three, are always compared.",
)
@click.option(
    "--units",
    type=click.Choice(("original", "scaled")),
    default="original",
    show_default=True,
    help="Units of the tables (rank in scaled units to compare features of different units).",
)
@plot_options
@client_options
def evaluate(
    client: Client,
    run_name: str,
    model: str,
    metric: str,
    seasons: tuple[int, ...],
    units: str,
    plots: PlotOptions,
) -> None:
    """Evaluate RUN (once, stored) and print its ranking, metrics and baseline verdict.

    Prints the ranking and the overall test table, and warns when no model beats the
    strongest baseline on the validation split; --plots DIR writes its plots as PNG.
    """
    run_name = run_name if run_name.startswith("runs/") else f"runs/{run_name}"
    if model and not model.startswith("runs/"):
        model = f"{run_name}/models/{model}"
    api = client.api
    rank_metric = _metric(metric)
    options = er.EvaluationOptions(
        seasons=sorted(set(seasons)), baseline_metric=0 if rank_metric == er.METRIC_MASE else rank_metric
    )
    evaluation = api.call(
        api.evaluation.CreateEvaluation,
        pb.CreateEvaluationRequest(evaluation=er.Evaluation(run=run_name, model=model, options=options)),
    ).evaluation
    if evaluation.state not in TERMINAL:
        follow_evaluation(client, evaluation.name)
        evaluation = api.call(api.evaluation.GetEvaluation, pb.GetEvaluationRequest(name=evaluation.name)).evaluation
    if evaluation.state != er.EVALUATION_STATE_READY:
        state = er.EvaluationState.Name(evaluation.state)
        raise click.ClickException(f"{evaluation.name} is {state}: {evaluation.failure_reason or 'try again later'}")
    value_units = er.VALUE_UNITS_SCALED if units == "scaled" else er.VALUE_UNITS_ORIGINAL

    def read(kind: int, **selector) -> er.MetricTable:
        return api.read_metric_table(evaluation.name, pb.MetricTableSelector(kind=kind, units=value_units, **selector))

    ranking = read(er.METRIC_TABLE_KIND_RANKING, rank_metric=rank_metric)
    intervals = read(er.METRIC_TABLE_KIND_INTERVALS)
    overall = next(
        t for t in evaluation.overall_tables if t.split == common_pb2.DATA_SPLIT_TEST and t.units == value_units
    )
    if client.json_output:
        client.emit_json(evaluation)
    people = client.people
    people.print(f"{evaluation.name} of {evaluation.run}")
    if evaluation.baselines:
        people.print("baselines: " + ", ".join(b.label for b in evaluation.baselines))
    reference = ranking.reference_baseline.label if ranking.HasField("reference_baseline") else ""
    against = f"; skill against {reference}" if reference else ""
    table = Table(title=f"ranking by {metric.upper()} on the test split ({units}, mean over features){against}")
    for column in ("rank", "model", metric, "skill"):
        table.add_column(column, justify="right" if column != "model" else "left")
    for row in ranking.rows:
        table.add_row(str(row.rank), _label(row), _cell(row, metric), _cell(row, metric, "skill"))
    people.print(table)
    people.print(overall_table(overall, f"overall, test split, {units} units", metric))
    if intervals.rows:
        people.print(interval_table(intervals, f"prediction intervals over every step, test split, {units} units"))
    for line in baseline_verdict(evaluation):
        people.print(line)
    if plots.folder is not None:
        write_plots(client, evaluation, plots, rank_metric, value_units)


def follow_evaluation(client: Client, name: str) -> None:
    """Shows the evaluation's progress (WatchEvaluation, re-attached by tsforge.client
    when the stream breaks) until it is READY or FAILED. Ctrl-C stops following (the
    evaluation goes on) and exits."""

    def reattaching(code, last: int) -> None:
        client.people.print(f"[yellow]connection lost ({code.name}); re-attaching after event {last}…")

    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            console=client.people,
            transient=True,
        ) as progress:
            task = progress.add_task(f"{name}: queued", total=None, info="")
            for event in client.api.watch_evaluation(name, on_reattach=reattaching):
                _show(progress, task, name, event)
    except KeyboardInterrupt:
        client.people.print(f"\nstopped following {name}; it goes on. The same command follows it again.")
        raise click.exceptions.Exit(130) from None


def _show(progress: Progress, task, name: str, event: er.EvaluationEvent) -> None:
    if event.WhichOneof("event") == "progress":
        p = event.progress
        eta = f"about {p.eta.ToTimedelta().total_seconds():.0f} s left" if p.HasField("eta") else ""
        progress.update(task, description=f"{name}: {p.stage}", completed=p.done, total=p.total or None, info=eta)
    elif event.WhichOneof("event") == "state_change":
        change = event.state_change
        state = er.EvaluationState.Name(change.state).removeprefix("EVALUATION_STATE_").lower()
        progress.update(task, description=f"{name}: {state}")
        reason = f" ({change.reason})" if change.reason else ""
        progress.console.print(f"{name} {state}{reason}")


def overall_table(overall: er.MetricTable, title: str, skill_metric: str = "mae") -> Table:
    """An OVERALL metric table for people: one row per model (or baseline) and feature,
    with the skill in `skill_metric` against the table's reference baseline."""
    if overall.HasField("reference_baseline"):
        title += f"; skill ({skill_metric.upper()}) against {overall.reference_baseline.label}"
    table = Table(title=title)
    for column in ("model", "feature", *SHOWN, "skill"):
        table.add_column(column, justify="left" if column in ("model", "feature") else "right")
    for row in overall.rows:
        table.add_row(_label(row), row.feature, *(_cell(row, m) for m in SHOWN), _cell(row, skill_metric, "skill"))
    return table


def interval_table(intervals: er.MetricTable, title: str) -> Table:
    """The INTERVALS table's rows over every step (step 0), one per model, feature and level."""
    table = Table(title=title)
    for column in ("model", "feature", "level", *INTERVAL_SHOWN):
        table.add_column(column.replace("_", " "), justify="left" if column in ("model", "feature") else "right")
    for row in intervals.rows:
        if row.step == 0:
            cells = (_interval_cell(row, m) for m in INTERVAL_SHOWN)
            table.add_row(_label(row), row.feature, f"{row.interval_level:.0%}", *cells)
    return table


def baseline_verdict(evaluation: er.Evaluation) -> list[str]:
    """What people should know about the models against the strongest baseline, in plain
    words: a warning when no model beats it on the validation split; empty for
    evaluations stored before baselines were compared."""
    if not evaluation.HasField("baseline_comparison"):
        return []
    comparison = evaluation.baseline_comparison
    metric = er.Metric.Name(comparison.metric).removeprefix("METRIC_")
    units = " (scaled)" if comparison.units == er.VALUE_UNITS_SCALED else ""
    if not comparison.HasField("best_baseline"):
        reason = comparison.best_baseline_value.undefined_reason
        return [
            f"[yellow]warning:[/yellow] no baseline could be scored on the validation split ({reason}), "
            "so nothing says whether these models are better than a naive forecast."
        ]
    best = comparison.best_baseline
    if comparison.models_beating_baseline:
        beating = [name.rsplit("/", 1)[-1] for name in comparison.models_beating_baseline]
        return [
            f"{len(beating)} of {len(evaluation.models)} models beat the strongest baseline, {best.label}, "
            f"on the validation split by {metric}: {', '.join(beating)}."
        ]
    if comparison.best_model:
        best_model = comparison.best_model.rsplit("/", 1)[-1]
        numbers = (
            f"its {metric} is {_format(comparison.best_baseline_value)}{units}, the best model's ({best_model}) "
            f"{_format(comparison.best_model_value)}"
        )
    else:
        numbers = f"no model has a {metric} there ({comparison.best_model_value.undefined_reason})"
    return [
        f"[bold yellow]warning:[/bold yellow] no model beats the strongest baseline, {best.label}, "
        f"on the validation split: {numbers}. {_plainly(best)} forecasts better than "
        f"{'this model' if len(evaluation.models) == 1 else 'every model of this run'}: "
        "do not ship it as it is (give the models the values one season back, try other models or more data)."
    ]


def _plainly(baseline: er.BaselineForecast) -> str:
    if baseline.baseline == er.BASELINE_SEASONAL_NAIVE:
        season = baseline.label.removeprefix("seasonal naive (").removesuffix(")")
        return f"Repeating what was measured one season ({season}) earlier"
    if baseline.baseline == er.BASELINE_NAIVE:
        return "Repeating the last value before the forecast"
    return "Forecasting the training mean everywhere"
