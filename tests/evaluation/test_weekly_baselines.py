"""Through the real services: a month of hourly load with a strong weekly cycle. The
weekly seasonal naive (its week of history read by ReadPredictions) is the baseline, a
model that cannot see the week does not beat it and `tsforge eval` says so; prediction
intervals stored beside the predictions are read back, scored and drawn."""

from __future__ import annotations

import io

import numpy as np
import pytest
from click.testing import CliRunner

from services.evaluation.tests.test_charts import assert_png
from services.training.build import load_arrays
from tests.plugin import JWT_SECRET, new_tenant
from tests.training.helpers import build_ready_dataset, create_session, hourly_csv, wait_for_run
from tests.upload.helpers import stream_upload
from tsforge.cli.main import cli
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb

HOURS = 5 * 7 * 24
LEVELS = (0.8, 0.95)
HALF_WIDTHS = (2.0, 4.0)


def _upload_weekly(upload_stub, tenant) -> tuple[str, str]:
    """Temperature with a daily cycle; load that follows it and is 30 higher on weekends."""
    t = np.arange(HOURS)
    temperature = 10 + 5 * np.sin(2 * np.pi * t / 24)
    weekend = (t // 24) % 7 >= 5  # 2024-01-01 is a Monday
    noise = np.random.default_rng(3).normal(0, 0.5, HOURS)
    load = 100 + 3 * temperature + 30 * weekend + noise
    temperature_file = stream_upload(upload_stub, tenant, hourly_csv("temperature", temperature), file_name="t.csv")
    load_file = stream_upload(
        upload_stub, tenant, hourly_csv("load", load), role=common_pb2.FEATURE_ROLE_OUTPUT, file_name="load.csv"
    )
    return temperature_file.name, load_file.name


def _add_intervals(store, model: tr.ModelResult) -> None:
    """Stores intervals beside the predictions, as the worker does for models that have them."""
    for stored in model.predictions:
        arrays = load_arrays(store, stored.object.key)
        predicted = arrays["predicted"]
        half = np.array(HALF_WIDTHS, dtype=np.float32)[None, :, None, None]
        arrays["lower"] = predicted[:, None] - half
        arrays["upper"] = predicted[:, None] + half
        arrays["interval_levels"] = np.array(LEVELS)
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        store.put(stored.object.key, [buffer.getvalue()])


@pytest.fixture(scope="module")
def weekly(stack):
    tenant = new_tenant()
    training = stack.training
    temperature, load = _upload_weekly(training.upload.stub, tenant)
    spec = tr.DatasetSpec(
        inputs=[tr.FeatureSpec(file=temperature, horizon=common_pb2.HorizonHours(start=-6, end=0))],
        outputs=[tr.FeatureSpec(file=load, horizon=common_pb2.HorizonHours(start=0, end=3))],
        window=tr.WindowConfig(input_steps=6, output_steps=3, step_minutes=60),
        split=tr.SplitConfig(train_fraction=0.6, validation_fraction=0.2, test_fraction=0.2),
    )
    dataset = build_ready_dataset(training.stub, tenant, create_session(training.stub, tenant, spec))
    run = training.stub.CreateRun(
        training_pb.CreateRunRequest(
            run=tr.Run(dataset=dataset.name, model_specs=[tr.ModelSpec(model_id="linear", linear_regression={})])
        ),
        metadata=tenant.metadata,
    ).run
    done = wait_for_run(training.stub, tenant, run.name, timeout=120)
    assert done.state == tr.RUN_STATE_SUCCEEDED, done
    _add_intervals(stack.store, done.models[0])
    return tenant, done


def test_read_predictions_sends_the_stored_intervals(stack, weekly):
    tenant, run = weekly
    messages = list(
        stack.training.stub.ReadPredictions(
            training_pb.ReadPredictionsRequest(name=run.models[0].name, split=common_pb2.DATA_SPLIT_TEST),
            metadata=tenant.metadata,
        )
    )
    header = messages[0].header
    assert list(header.interval_levels) == list(LEVELS)
    chunks = [m.chunk for m in messages[1:]]
    rows = sum(len(c.reference_times) for c in chunks)
    predicted = np.array([v for c in chunks for v in c.predicted]).reshape(rows, 1, 3, 1)
    lower = np.array([v for c in chunks for v in c.lower]).reshape(rows, len(LEVELS), 3, 1)
    upper = np.array([v for c in chunks for v in c.upper]).reshape(rows, len(LEVELS), 3, 1)
    half = np.array(HALF_WIDTHS)[None, :, None, None]
    np.testing.assert_allclose(lower, predicted - half, atol=1e-3)
    np.testing.assert_allclose(upper, predicted + half, atol=1e-3)


def test_the_weekly_baseline_is_the_one_to_beat_and_eval_says_the_model_does_not(stack, weekly, tmp_path):
    tenant, run = weekly
    env = {
        "TSFORGE_EVALUATION_ADDRESS": stack.address,
        "TSFORGE_TOKEN": tenant.token,
        "TSFORGE_JWT_SECRET": JWT_SECRET,
        "COLUMNS": "250",
    }
    result = CliRunner().invoke(cli, ["eval", run.name, "--json", "--plots", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    people = " ".join(result.stderr.split())  # rich wraps long lines
    assert "seasonal naive (1 week = 168 steps)" in people and "seasonal naive (1 day = 24 steps)" in people
    assert "warning: no model beats the strongest baseline, seasonal naive (1 week = 168 steps)" in people
    assert "prediction intervals" in people and "80%" in people and "95%" in people
    assert_png((tmp_path / "load-prediction-vs-actual.png").read_bytes(), 1000, 600)

    evaluation = stack.stub.ListEvaluations(
        pb.ListEvaluationsRequest(run=run.name), metadata=tenant.metadata
    ).evaluations[0]
    comparison = evaluation.baseline_comparison
    assert (comparison.best_baseline.baseline, comparison.best_baseline.season_steps) == (2, 168)
    assert not comparison.models_beating_baseline
    assert evaluation.options.season_steps == 168  # MASE is scaled by the weekly seasonal naive
    assert [b.label for b in evaluation.baselines] == [
        "naive",
        "seasonal naive (1 day = 24 steps)",
        "seasonal naive (1 week = 168 steps)",
        "training mean",
    ]
    intervals = stack.stub.ReadMetricTable(
        pb.ReadMetricTableRequest(
            name=evaluation.name, table=pb.MetricTableSelector(kind=er.METRIC_TABLE_KIND_INTERVALS)
        ),
        metadata=tenant.metadata,
    ).table
    overall = {row.interval_level: row for row in intervals.rows if row.step == 0}
    assert sorted(overall) == list(LEVELS)
    width = next(s.value.value for s in overall[0.8].interval_scores if s.metric == er.INTERVAL_METRIC_MEAN_WIDTH)
    assert width == pytest.approx(2 * HALF_WIDTHS[0], abs=1e-3)
