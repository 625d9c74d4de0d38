"""The evaluation service against the real training stack: a run evaluated once and
stored, its tables read, exported and plotted, and kept from other tenants."""

from __future__ import annotations

import csv
import hashlib
import io

import grpc
import pytest
from google.rpc import error_details_pb2

from services.evaluation.tests.test_charts import assert_png
from tests.evaluation.helpers import FinishedRun
from tests.training.helpers import expect_error, wait_for_run
from tests.upload.helpers import status_details
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb


@pytest.fixture(scope="module")
def evaluation(stack, finished: FinishedRun) -> er.Evaluation:
    return stack.stub.CreateEvaluation(
        pb.CreateEvaluationRequest(evaluation=er.Evaluation(run=finished.run.name)), metadata=finished.tenant.metadata
    ).evaluation


def _read(stack, tenant, name, **selector) -> er.MetricTable:
    return stack.stub.ReadMetricTable(
        pb.ReadMetricTableRequest(name=name, table=pb.MetricTableSelector(**selector)), metadata=tenant.metadata
    ).table


def test_a_run_is_evaluated_once_and_asking_again_returns_the_stored_evaluation(stack, finished, evaluation):
    assert evaluation.state == er.EVALUATION_STATE_READY, evaluation.failure_reason
    assert list(evaluation.models) == [m.name for m in finished.run.models]
    assert list(evaluation.features) == ["load"]
    # Ten days of hourly data: naive, one day (no week: that needs three) and the mean.
    assert [b.label for b in evaluation.baselines] == ["naive", "seasonal naive (1 day = 24 steps)", "training mean"]
    comparison = evaluation.baseline_comparison
    assert comparison.metric == er.METRIC_MAE and comparison.units == er.VALUE_UNITS_SCALED
    assert comparison.best_baseline in evaluation.baselines
    assert set(comparison.models_beating_baseline) <= set(evaluation.models)
    # MASE takes the strongest of the naive and seasonal-naive baselines' season.
    assert evaluation.options.season_steps in (1, 24) and evaluation.options.baseline_metric == er.METRIC_MAE
    assert {(t.split, t.units) for t in evaluation.overall_tables} == {
        (s, u)
        for s in (common_pb2.DATA_SPLIT_TEST, common_pb2.DATA_SPLIT_VALIDATION)
        for u in (er.VALUE_UNITS_ORIGINAL, er.VALUE_UNITS_SCALED)
    }
    test_overall = next(
        t
        for t in evaluation.overall_tables
        if t.split == common_pb2.DATA_SPLIT_TEST and t.units == er.VALUE_UNITS_ORIGINAL
    )
    # 3 models and 3 baselines, one output feature; every score a value or a reason.
    assert len(test_overall.rows) == 6
    assert test_overall.reference_baseline == comparison.best_baseline
    for row in test_overall.rows:
        assert [s.metric for s in row.scores] == list(range(1, 10))
        assert [s.metric for s in row.skill] == list(range(1, 10))
        assert all(s.value.HasField("value") != bool(s.value.undefined_reason) for s in [*row.scores, *row.skill])
    again = stack.stub.CreateEvaluation(
        pb.CreateEvaluationRequest(evaluation=er.Evaluation(run=finished.run.name)), metadata=finished.tenant.metadata
    ).evaluation
    assert again == evaluation
    got = stack.stub.GetEvaluation(
        pb.GetEvaluationRequest(name=evaluation.name), metadata=finished.tenant.metadata
    ).evaluation
    assert got == evaluation
    listed = stack.stub.ListEvaluations(
        pb.ListEvaluationsRequest(run=finished.run.name), metadata=finished.tenant.metadata
    ).evaluations
    assert [e.name for e in listed] == [evaluation.name]


def test_one_model_with_an_inferred_season_is_another_evaluation(stack, finished, evaluation):
    model = finished.run.models[0].name
    single = stack.stub.CreateEvaluation(
        pb.CreateEvaluationRequest(
            evaluation=er.Evaluation(
                run=finished.run.name, model=model, options=er.EvaluationOptions(infer_season=True)
            )
        ),
        metadata=finished.tenant.metadata,
    ).evaluation
    assert single.state == er.EVALUATION_STATE_READY, single.failure_reason
    assert single.name != evaluation.name and list(single.models) == [model]
    assert single.options.season_steps == 24  # hourly forecast steps: a day
    page = stack.stub.ListEvaluations(pb.ListEvaluationsRequest(page_size=1), metadata=finished.tenant.metadata)
    rest = stack.stub.ListEvaluations(
        pb.ListEvaluationsRequest(page_size=1, page_token=page.next_page_token), metadata=finished.tenant.metadata
    )
    assert {page.evaluations[0].name, rest.evaluations[0].name} == {single.name, evaluation.name}


def test_tables_per_step_aggregated_skill_and_ranking_read_by_page(stack, finished, evaluation):
    tenant = finished.tenant
    per_step = _read(stack, tenant, evaluation.name, kind=er.METRIC_TABLE_KIND_PER_STEP)
    assert sorted({r.step for r in per_step.rows}) == [1, 2, 3] and len(per_step.rows) == 18
    aggregated = _read(
        stack,
        tenant,
        evaluation.name,
        kind=er.METRIC_TABLE_KIND_AGGREGATED,
        split=common_pb2.DATA_SPLIT_VALIDATION,
        units=er.VALUE_UNITS_SCALED,
        exclude_baselines=True,
    )
    assert {(r.aggregation_steps, r.step_width_minutes) for r in aggregated.rows} == {(1, 60), (2, 120), (3, 180)}
    assert all(r.model for r in aggregated.rows)
    skill = _read(stack, tenant, evaluation.name, kind=er.METRIC_TABLE_KIND_SKILL, models=[finished.run.models[0].name])
    assert sorted(r.baseline for r in skill.rows) == [1, 2, 3]
    ranking = _read(stack, tenant, evaluation.name, kind=er.METRIC_TABLE_KIND_RANKING, rank_metric=er.METRIC_MAE)
    assert ranking.rank_metric == er.METRIC_MAE and len(ranking.rows) == 6
    assert [r.rank for r in ranking.rows] == sorted(r.rank for r in ranking.rows) and ranking.rows[0].rank == 1
    rows, token = [], ""
    while True:
        response = stack.stub.ReadMetricTable(
            pb.ReadMetricTableRequest(
                name=evaluation.name,
                table=pb.MetricTableSelector(kind=er.METRIC_TABLE_KIND_PER_STEP),
                page_size=5,
                page_token=token,
            ),
            metadata=tenant.metadata,
        )
        rows += response.table.rows
        token = response.next_page_token
        if not token:
            break
    assert rows == list(per_step.rows)


def test_export_streams_the_table_as_csv_with_size_and_checksum(stack, finished, evaluation):
    responses = list(
        stack.stub.ExportMetricTable(
            pb.ExportMetricTableRequest(
                name=evaluation.name, table=pb.MetricTableSelector(kind=er.METRIC_TABLE_KIND_AGGREGATED)
            ),
            metadata=finished.tenant.metadata,
        )
    )
    header = responses[0].header
    data = b"".join(r.chunk for r in responses[1:])
    assert header.content_type == "text/csv" and header.size_bytes == len(data)
    assert header.sha256 == hashlib.sha256(data).hexdigest()
    table = list(csv.DictReader(io.StringIO(data.decode())))
    assert next(iter(table[0])) == "step_width_minutes"
    assert {row["model_type"] for row in table} == {"linear_regression", "dense", "svr_mimo", ""}
    assert len(table) == 6 * 3


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        (pb.PLOT_KIND_PREDICTION_VS_ACTUAL, {"feature": "load", "forecast_step": 2}),
        (pb.PLOT_KIND_RESIDUAL_HISTOGRAM, {"feature": "load", "units": er.VALUE_UNITS_SCALED}),
        (pb.PLOT_KIND_ERROR_PER_STEP, {"feature": "load", "metric": er.METRIC_MAE}),
        (pb.PLOT_KIND_LOSS_CURVES, {}),
        (pb.PLOT_KIND_DATASET_VIOLINS, {}),
    ],
)
def test_every_plot_kind_is_a_png_rendered_once_and_cached(stack, finished, evaluation, kind, extra):
    request = pb.RenderPlotRequest(name=evaluation.name, kind=kind, width_px=500, height_px=300, dpi=50, **extra)
    first = stack.stub.RenderPlot(request, metadata=finished.tenant.metadata)
    assert first.content_type == "image/png"
    assert_png(first.data, 500, 300)
    evaluation_id = evaluation.name.split("/")[1]
    cached = [
        key
        for key in stack.store.list(f"plots/{evaluation_id}/")
        if key.split("/")[-1].startswith(pb.PlotKind.Name(kind).removeprefix("PLOT_KIND_").lower())
    ]
    assert len(cached) == 1
    assert stack.stub.RenderPlot(request, metadata=finished.tenant.metadata).data == first.data


def test_bad_requests_name_every_bad_field(stack, finished, evaluation):
    tenant = finished.tenant
    error = expect_error(
        lambda: stack.stub.CreateEvaluation(
            pb.CreateEvaluationRequest(
                evaluation=er.Evaluation(
                    run="jobs/x",
                    model="runs/x",
                    options=er.EvaluationOptions(season_steps=-1, seasons=[0, 5000], baseline_metric=er.METRIC_MASE),
                )
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    fields = {v.field for v in status_details(error, error_details_pb2.BadRequest)[0].field_violations}
    assert fields == {
        "evaluation.run",
        "evaluation.model",
        "evaluation.options.season_steps",
        "evaluation.options.seasons",
        "evaluation.options.baseline_metric",
    }
    error = expect_error(
        lambda: stack.stub.RenderPlot(
            pb.RenderPlotRequest(
                name=evaluation.name,
                kind=pb.PLOT_KIND_PREDICTION_VS_ACTUAL,
                width_px=99999,
                dpi=5,
                models=["runs/x/models/y"],
                split=common_pb2.DATA_SPLIT_TRAIN,
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    fields = {v.field for v in status_details(error, error_details_pb2.BadRequest)[0].field_violations}
    assert fields == {"feature", "width_px", "dpi", "models", "split"}
    error = expect_error(
        lambda: stack.stub.ReadMetricTable(
            pb.ReadMetricTableRequest(
                name=evaluation.name, table=pb.MetricTableSelector(features=["nope"]), page_size=-1
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    fields = {v.field for v in status_details(error, error_details_pb2.BadRequest)[0].field_violations}
    assert fields == {"page_size", "table.kind", "table.features"}
    expect_error(
        lambda: stack.stub.ListEvaluations(pb.ListEvaluationsRequest(page_token="garbage!"), metadata=tenant.metadata),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


def test_a_run_that_has_not_succeeded_is_a_failed_precondition(stack, finished):
    training = stack.training
    tenant = finished.tenant
    run = training.stub.CreateRun(
        training_pb.CreateRunRequest(
            run=tr.Run(
                dataset=finished.dataset.name,
                model_specs=[
                    tr.ModelSpec(
                        dense=tr.DenseParams(
                            neural=tr.NeuralParams(
                                layers=1, units=4, epochs=2000, early_stopping_patience=2000, batch_size=4
                            )
                        )
                    )
                ],
            )
        ),
        metadata=tenant.metadata,
    ).run
    training.stub.CancelRun(training_pb.CancelRunRequest(name=run.name), metadata=tenant.metadata)
    assert wait_for_run(training.stub, tenant, run.name, timeout=60).state == tr.RUN_STATE_CANCELLED
    error = expect_error(
        lambda: stack.stub.CreateEvaluation(
            pb.CreateEvaluationRequest(evaluation=er.Evaluation(run=run.name)), metadata=tenant.metadata
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "CANCELLED" in error.details()
    assert not stack.stub.ListEvaluations(pb.ListEvaluationsRequest(run=run.name), metadata=tenant.metadata).evaluations


def test_every_rpc_keeps_another_tenants_evaluations_and_runs_out_of_reach(stack, finished, evaluation, other_tenant):
    other = other_tenant.metadata
    name = evaluation.name
    calls = {
        "CreateEvaluation": lambda: stack.stub.CreateEvaluation(
            pb.CreateEvaluationRequest(evaluation=er.Evaluation(run=finished.run.name)), metadata=other
        ),
        "GetEvaluation": lambda: stack.stub.GetEvaluation(pb.GetEvaluationRequest(name=name), metadata=other),
        "ReadMetricTable": lambda: stack.stub.ReadMetricTable(
            pb.ReadMetricTableRequest(name=name, table=pb.MetricTableSelector(kind=er.METRIC_TABLE_KIND_OVERALL)),
            metadata=other,
        ),
        "ExportMetricTable": lambda: list(
            stack.stub.ExportMetricTable(
                pb.ExportMetricTableRequest(name=name, table=pb.MetricTableSelector(kind=er.METRIC_TABLE_KIND_OVERALL)),
                metadata=other,
            )
        ),
        "RenderPlot": lambda: stack.stub.RenderPlot(
            pb.RenderPlotRequest(name=name, kind=pb.PLOT_KIND_ERROR_PER_STEP, feature="load"), metadata=other
        ),
    }
    assert set(calls) | {"ListEvaluations"} == set(pb.DESCRIPTOR.services_by_name["EvaluationService"].methods_by_name)
    for rpc, call in calls.items():
        error = expect_error(call, grpc.StatusCode.NOT_FOUND)
        assert "not found" in error.details(), rpc
    assert not stack.stub.ListEvaluations(pb.ListEvaluationsRequest(), metadata=other).evaluations
    assert not stack.stub.ListEvaluations(pb.ListEvaluationsRequest(run=finished.run.name), metadata=other).evaluations
