"""`tsforge models`: register, list, alias, download and predict from a CSV to a CSV."""

from __future__ import annotations

import csv
import json
import uuid
import zipfile

import numpy as np
from click.testing import CliRunner

from tests.models.test_predict import stored_test_predictions, temperature_series
from tests.plugin import JWT_SECRET
from tsforge.cli.main import cli


def test_models_commands(models_stack, tmp_path):
    stack, tenant = models_stack, models_stack.tenant
    env = {"TSFORGE_MODELS_ADDRESS": stack.address, "TSFORGE_TOKEN": tenant.token, "TSFORGE_JWT_SECRET": JWT_SECRET}
    runner = CliRunner()
    model = f"cli-{uuid.uuid4().hex[:8]}"

    def run(*arguments):
        result = runner.invoke(cli, ["models", *arguments], env=env)
        assert result.exit_code == 0, result.output
        return result

    assert (
        "no evaluation of it" in run("register", model, stack.model("linear"), "--description", "from the CLI").stdout
    )
    run("alias", model, "production", "1")
    listed = json.loads(run("list", "--prefix", model, "--json").stdout)
    assert listed["registeredModels"][0]["aliases"] == {"production": "1"}
    versions = json.loads(run("versions", model, "--json").stdout)["modelVersions"]
    assert versions[0]["description"] == "from the CLI"
    assert "version" in run("versions", model).stdout

    bundle = tmp_path / "bundle.zip"
    run("download", f"{model}@production", str(bundle))
    assert "manifest.json" in zipfile.ZipFile(bundle).namelist()

    times, values = temperature_series()
    inputs = tmp_path / "inputs.csv"
    inputs.write_text(
        "time,temperature\n" + "".join(f"{np.datetime_as_string(t, unit='s')}Z,{v}\n" for t, v in zip(times, values))
    )
    stored_times, expected = stored_test_predictions(stack, "linear")
    at = [f"--at={np.datetime_as_string(np.datetime64(int(s), 's'))}" for s in stored_times[:3]]
    output = tmp_path / "forecast.csv"
    run("predict", f"{model}@production", str(inputs), str(output), *at)
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 3 * 3 and rows[0]["feature"] == "load" and rows[0]["step"] == "1"
    # Each step's time is its reference time plus the load horizon's step (1 h, 2 h, 3 h).
    assert [
        (r["step"], np.datetime64(r["time"].rstrip("Z")) - np.datetime64(r["reference_time"].rstrip("Z")))
        for r in rows[:3]
    ] == [(str(k), np.timedelta64(k, "h")) for k in (1, 2, 3)]
    got = np.array([float(r["value"]) for r in rows]).reshape(3, 3)
    np.testing.assert_allclose(got, expected[:3, :, 0], rtol=1e-5, atol=1e-3)

    run("unalias", model, "production")
