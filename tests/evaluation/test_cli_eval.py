"""`tsforge eval RUN`: the ranking and the overall table in the terminal, plots in a folder."""

from __future__ import annotations

from click.testing import CliRunner

from services.evaluation.tests.test_charts import assert_png
from tests.plugin import JWT_SECRET
from tsforge.cli.main import cli


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
