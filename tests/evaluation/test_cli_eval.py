"""`tsforge eval RUN`: the ranking and the overall table in the terminal, plots in a folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from google.protobuf import timestamp_pb2

from services.evaluation import rendering
from services.evaluation.compute import compute_evaluation, plan_baselines
from services.evaluation.messages import baseline_message, comparison_message
from services.evaluation.metrics import Metric
from services.evaluation.tests.fake_training import weekly_training
from services.evaluation.tests.test_charts import assert_png
from tests.plugin import JWT_SECRET
from tsforge.cli import plots
from tsforge.cli.evaluation import baseline_verdict
from tsforge.cli.main import cli
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb


def _env(stack, finished) -> dict[str, str]:
    return {
        "TSFORGE_EVALUATION_ADDRESS": stack.address,
        "TSFORGE_TOKEN": finished.tenant.token,
        "TSFORGE_JWT_SECRET": JWT_SECRET,
        "COLUMNS": "200",
    }


def test_eval_prints_the_ranking_and_overall_table_and_writes_every_plot(stack, finished, tmp_path):
    env = _env(stack, finished)
    run_id = finished.run.name.split("/")[1]
    result = CliRunner().invoke(cli, ["eval", run_id, "--metric", "mae", "--plots", str(tmp_path / "plots")], env=env)
    assert result.exit_code == 0, result.output
    assert "ranking by MAE" in result.output
    for label in ("linear", "dense", "svr", "baseline: naive", "baseline: seasonal naive", "baseline: training mean"):
        assert label in result.output
    written = sorted(path.name for path in (tmp_path / "plots").iterdir())
    assert written == [
        "dataset-violins.png",
        "load-error-per-step.png",
        "load-prediction-vs-actual.png",
        "load-residuals.png",
        "loss-curves.png",
    ]
    for path in (tmp_path / "plots").iterdir():
        assert_png(path.read_bytes(), 1000, 600)


def _timestamp(text: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None))
    return stamp


def test_eval_plots_take_the_options_of_render_plot(stack, finished, tmp_path):
    run = finished.run.name
    folder = tmp_path / "plots"
    # The run's test split is the last fifth of 240 hours from 2024-01-01: 9 and 10 January.
    options = ["--plot-model", "dense", "--plot-model", f"{run}/models/svr", "--plot-step", "2"]
    options += ["--plot-from", "2024-01-09T06:00", "--plot-to", "2024-01-09T20:00+02:00"]
    options += ["--plot-width", "640", "--plot-height", "400", "--plot-dpi", "80"]
    result = CliRunner().invoke(
        cli, ["eval", run.split("/")[1], "--json", "--plots", str(folder), *options], env=_env(stack, finished)
    )
    assert result.exit_code == 0, result.output
    evaluation = json.loads(result.stdout)["name"]
    assert len(list(folder.iterdir())) == 5
    for path in folder.iterdir():
        assert_png(path.read_bytes(), 640, 400)
    models = [f"{run}/models/dense", f"{run}/models/svr"]
    size = {"width_px": 640, "height_px": 400, "dpi": 80}

    def served(kind: int, **fields) -> bytes:
        request = pb.RenderPlotRequest(name=evaluation, kind=kind, **size, **fields)
        return stack.stub.RenderPlot(request, metadata=finished.tenant.metadata).data

    # The same bytes as RenderPlot asked for exactly these options (one cached render).
    window = {"start_time": _timestamp("2024-01-09T06:00Z"), "end_time": _timestamp("2024-01-09T18:00Z")}
    prediction = (folder / "load-prediction-vs-actual.png").read_bytes()
    step = {"feature": "load", "models": models, "forecast_step": 2}
    assert prediction == served(pb.PLOT_KIND_PREDICTION_VS_ACTUAL, **step, **window)
    assert prediction != served(pb.PLOT_KIND_PREDICTION_VS_ACTUAL, **step)
    residuals = (folder / "load-residuals.png").read_bytes()
    assert residuals == served(pb.PLOT_KIND_RESIDUAL_HISTOGRAM, feature="load", models=models)
    assert residuals != served(pb.PLOT_KIND_RESIDUAL_HISTOGRAM, feature="load")
    assert (folder / "loss-curves.png").read_bytes() == served(pb.PLOT_KIND_LOSS_CURVES, models=models)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--plot-step", "2"], "the --plot-* options need --plots DIR (given: --plot-step)"),
        (["--plots", "DIR", "--plot-width", "99"], "99 is not in the range 100<=x<=4000"),
        (["--plots", "DIR", "--plot-dpi", "601"], "601 is not in the range 50<=x<=600"),
        (["--plots", "DIR", "--plot-from", "9 January"], "'9 January' is not an ISO 8601 time"),
        (["--plots", "DIR", "--plot-from", "2024-01-10", "--plot-to", "2024-01-09"], "--plot-to: is before"),
    ],
)
def test_eval_refuses_plot_options_it_cannot_honour_before_evaluating(arguments, message, tmp_path):
    arguments = [str(tmp_path) if argument == "DIR" else argument for argument in arguments]
    result = CliRunner().invoke(cli, ["eval", "run1", *arguments], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


def test_eval_names_a_plot_model_that_was_not_evaluated(stack, finished, tmp_path):
    run_id = finished.run.name.split("/")[1]
    arguments = ["eval", run_id, "--plots", str(tmp_path / "plots"), "--plot-model", "dense", "--plot-model", "nope"]
    result = CliRunner().invoke(cli, arguments, env=_env(stack, finished))
    assert result.exit_code == 2, result.output
    assert f"runs/{run_id}/models/nope: not evaluated here (linear, dense, svr)" in " ".join(result.output.split())
    assert not (tmp_path / "plots").exists()


def test_the_cli_knows_render_plots_bounds():
    assert (plots.PIXELS, plots.DPI) == (rendering.PIXELS, rendering.DPI)


def _evaluation_of(models: tuple[str, ...]):
    """The Evaluation message of the weekly-cycle fake (no services), as the CLI gets it."""
    fake = weekly_training("t1", models=models)
    run = fake.get_run("t1", "runs/run1")
    plan = plan_baselines(0, (), Metric.MAE, fake.get_dataset("t1", run.dataset))
    computed = compute_evaluation(fake, "t1", list(run.models), plan)
    return er.Evaluation(
        models=computed.models,
        baselines=[baseline_message(key, plan.step_minutes) for key in computed.baselines],
        baseline_comparison=comparison_message(computed.comparison, computed.comparison_units, plan.step_minutes),
    )


def test_eval_warns_in_plain_words_when_no_model_beats_the_weekly_baseline():
    (line,) = baseline_verdict(_evaluation_of(("daily",)))
    assert "warning" in line and "no model beats the strongest baseline" in line
    assert "seasonal naive (1 week = 168 steps)" in line and "on the validation split" in line
    assert "one season (1 week = 168 steps) earlier forecasts better than this model" in line
    (line,) = baseline_verdict(_evaluation_of(("daily", "good")))
    assert "warning" not in line and line.startswith("1 of 2 models beat the strongest baseline")
    assert line.endswith(": good.")
