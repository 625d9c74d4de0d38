"""`tsforge eval RUN`: the ranking and the overall table in the terminal, plots in a folder."""

from __future__ import annotations

import re

from click.testing import CliRunner

from services.evaluation.compute import compute_evaluation, plan_baselines
from services.evaluation.messages import baseline_message, comparison_message
from services.evaluation.metrics import Metric
from services.evaluation.tests.fake_training import weekly_training
from services.evaluation.tests.test_charts import assert_png
from tests.plugin import JWT_SECRET
from tsforge.cli.evaluation import baseline_verdict
from tsforge.cli.main import cli
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er


def test_eval_prints_the_ranking_and_overall_table_and_writes_every_plot(stack, finished, tmp_path):
    env = {
        "TSFORGE_EVALUATION_ADDRESS": stack.address,
        "TSFORGE_TOKEN": finished.tenant.token,
        "TSFORGE_JWT_SECRET": JWT_SECRET,
        "COLUMNS": "200",
    }
    run_id = finished.run.name.split("/")[1]
    result = CliRunner().invoke(cli, ["eval", run_id, "--metric", "mae", "--plots", str(tmp_path / "plots")], env=env)
    assert result.exit_code == 0, result.output
    # Queued, followed live (WatchEvaluation), then printed.
    states = re.findall(r"^evaluations/\w+ (queued|computing|ready|failed)$", result.output, re.MULTILINE)
    assert states == ["queued", "computing", "ready"], result.output
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
