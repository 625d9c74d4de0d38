"""`tsforge eval RUN`: evaluate a run, print its ranking and overall table, write its plots."""

from __future__ import annotations

from pathlib import Path

import click
import grpc
from rich.table import Table

from tsforge.cli.client import Client, client_options, describe_rpc_error
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb
from tsforge.evaluation.v1 import evaluation_service_pb2_grpc as pb_grpc

METRICS = tuple(name.removeprefix("METRIC_").lower() for name in er.Metric.keys()[1:])
SHOWN = ("mae", "rmse", "nrmse_mean", "wape", "smape", "mase")


def _label(row: er.MetricTableRow) -> str:
    if row.model:
        return row.model.rsplit("/", 1)[-1]
    return "baseline: " + er.Baseline.Name(row.baseline).removeprefix("BASELINE_").lower().replace("_", " ")


def _cell(row: er.MetricTableRow, metric: str) -> str:
    score = next(s.value for s in row.scores if s.metric == er.Metric.Value(f"METRIC_{metric.upper()}"))
    return f"{score.value:.4g}" if score.HasField("value") else "–"


@click.command("eval")
@click.argument("run_name", metavar="RUN")
@click.option("--model", default="", help="Evaluate only this model (runs/RUN/models/MODEL or MODEL).")
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    default="rmse",
    show_default=True,
    help="Rank the models and baselines by this metric.",
)
@click.option(
    "--season",
    type=click.IntRange(0, 10_000),
    default=0,
    help="Season in forecast steps for seasonal naive and MASE (default: one day of steps, else 1).",
)
@click.option(
    "--units",
    type=click.Choice(("original", "scaled")),
    default="original",
    show_default=True,
    help="Units of the tables (rank in scaled units to compare features of different units).",
)
@click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write every plot as PNG into this folder.",
)
@client_options
def evaluate(
    client: Client, run_name: str, model: str, metric: str, season: int, units: str, plots_dir: Path | None
) -> None:
    """Evaluate RUN (computed once and stored), print the ranking and the overall test table."""
    run_name = run_name if run_name.startswith("runs/") else f"runs/{run_name}"
    if model and not model.startswith("runs/"):
        model = f"{run_name}/models/{model}"
    stub = pb_grpc.EvaluationServiceStub(client.channel("evaluation"))
    metadata = client.metadata()
    evaluation = stub.CreateEvaluation(
        pb.CreateEvaluationRequest(
            evaluation=er.Evaluation(
                run=run_name, model=model, options=er.EvaluationOptions(season_steps=season, infer_season=not season)
            )
        ),
        metadata=metadata,
    ).evaluation
    if evaluation.state != er.EVALUATION_STATE_READY:
        state = er.EvaluationState.Name(evaluation.state)
        raise click.ClickException(f"{evaluation.name} is {state}: {evaluation.failure_reason or 'try again later'}")
    value_units = er.VALUE_UNITS_SCALED if units == "scaled" else er.VALUE_UNITS_ORIGINAL
    rank_metric = er.Metric.Value(f"METRIC_{metric.upper()}")
    ranking = stub.ReadMetricTable(
        pb.ReadMetricTableRequest(
            name=evaluation.name,
            table=pb.MetricTableSelector(kind=er.METRIC_TABLE_KIND_RANKING, units=value_units, rank_metric=rank_metric),
        ),
        metadata=metadata,
    ).table
    overall = next(
        t for t in evaluation.overall_tables if t.split == common_pb2.DATA_SPLIT_TEST and t.units == value_units
    )
    if client.json_output:
        client.emit_json(evaluation)
    people = client.people
    people.print(f"{evaluation.name} of {evaluation.run} (season {evaluation.options.season_steps} steps)")
    table = Table(title=f"ranking by {metric.upper()} on the test split ({units}, mean over features)")
    for column in ("rank", "model", metric):
        table.add_column(column, justify="right" if column != "model" else "left")
    for row in ranking.rows:
        table.add_row(str(row.rank), _label(row), _cell(row, metric))
    people.print(table)
    people.print(overall_table(overall, f"overall, test split, {units} units"))
    if plots_dir is not None:
        _write_plots(client, stub, metadata, evaluation, plots_dir, rank_metric, value_units)


def overall_table(overall: er.MetricTable, title: str) -> Table:
    """An OVERALL metric table for people: one row per model (or baseline) and feature."""
    table = Table(title=title)
    for column in ("model", "feature", *SHOWN):
        table.add_column(column, justify="left" if column in ("model", "feature") else "right")
    for row in overall.rows:
        table.add_row(_label(row), row.feature, *(_cell(row, m) for m in SHOWN))
    return table


def _write_plots(
    client: Client, stub, metadata, evaluation: er.Evaluation, folder: Path, metric: int, units: int
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    requests = {
        "dataset-violins.png": pb.RenderPlotRequest(kind=pb.PLOT_KIND_DATASET_VIOLINS),
        "loss-curves.png": pb.RenderPlotRequest(kind=pb.PLOT_KIND_LOSS_CURVES),
    }
    for feature in evaluation.features:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in feature)
        requests[f"{safe}-prediction-vs-actual.png"] = pb.RenderPlotRequest(
            kind=pb.PLOT_KIND_PREDICTION_VS_ACTUAL, feature=feature, units=units
        )
        requests[f"{safe}-residuals.png"] = pb.RenderPlotRequest(
            kind=pb.PLOT_KIND_RESIDUAL_HISTOGRAM, feature=feature, units=units
        )
        requests[f"{safe}-error-per-step.png"] = pb.RenderPlotRequest(
            kind=pb.PLOT_KIND_ERROR_PER_STEP, feature=feature, metric=metric, units=units
        )
    for file_name, request in requests.items():
        request.name = evaluation.name
        try:
            image = stub.RenderPlot(request, metadata=metadata)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:  # e.g. no loss curves for scikit-learn models
                raise
            client.people.print(f"skipped {file_name}: {describe_rpc_error(error)}")
            continue
        (folder / file_name).write_bytes(image.data)
        client.people.print(f"wrote {folder / file_name}")
