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


def _env(stack) -> dict[str, str]:
    return {
        "TSFORGE_MODELS_ADDRESS": stack.address,
        "TSFORGE_TRAINING_ADDRESS": stack.training.address,
        "TSFORGE_TOKEN": stack.tenant.token,
        "TSFORGE_JWT_SECRET": JWT_SECRET,
    }


def test_predict_reads_its_csv_as_uploads_are_german_format_day_first(models_stack, tmp_path):
    """Bug 1 of issue 14: `;`, decimal commas and dd.mm.yyyy dates (every day <= 12, so
    only the column's format can say which number is the month) forecast exactly what
    the same series written in ISO 8601 does; slashed dates are refused, as uploads
    refuse them."""
    stack, runner = models_stack, CliRunner()
    model = f"de-{uuid.uuid4().hex[:8]}"
    env = _env(stack)
    assert runner.invoke(cli, ["models", "register", model, stack.model("linear")], env=env).exit_code == 0
    times, values = temperature_series()
    stamps = [t.item() for t in times.astype("datetime64[us]")]
    assert all(t.day <= 12 for t in stamps)  # day and month could be swapped in every row
    iso, german = tmp_path / "iso.csv", tmp_path / "german.csv"
    iso.write_text("time,temperature\n" + "".join(f"{t:%Y-%m-%dT%H:%M:%S}Z,{v}\n" for t, v in zip(stamps, values)))
    rows = "".join(f"{t:%d.%m.%Y %H:%M};" + f"{v:.4f}".replace(".", ",") + "\n" for t, v in zip(stamps, values))
    german.write_bytes(("Zeitstempel;temperature\n" + rows).encode("latin-1"))
    assert german.read_text("latin-1").splitlines()[26] == "02.01.2024 01:00;" + f"{values[25]:.4f}".replace(".", ",")
    at = [f"--at={stamps[k]:%Y-%m-%dT%H:%M:%S}" for k in (30, 100, 200)]
    outputs = {}
    for name, path in (("iso", iso), ("german", german)):
        out = tmp_path / f"{name}-forecast.csv"
        result = runner.invoke(cli, ["models", "predict", f"{model}/1", str(path), str(out), *at], env=env)
        assert result.exit_code == 0, result.output
        outputs[name] = list(csv.DictReader(out.open()))
    assert outputs["german"] == outputs["iso"]
    assert [r["reference_time"] for r in outputs["german"][::3]] == [
        f"{stamps[k]:%Y-%m-%dT%H:%M:%S}Z" for k in (30, 100, 200)
    ]

    slashed = tmp_path / "slashed.csv"
    slashed.write_text("time,temperature\n" + "".join(f"{t:%m/%d/%Y %H:%M},{v}\n" for t, v in zip(stamps, values)))
    refused = runner.invoke(cli, ["models", "predict", f"{model}/1", str(slashed), str(tmp_path / "x.csv")], env=env)
    assert refused.exit_code == 1
    assert "the CSV file cannot be read: no timestamp column" in refused.output
    assert not (tmp_path / "x.csv").exists()


def test_predictions_export_a_run_as_a_wide_csv(models_stack, tmp_path):
    stack, runner = models_stack, CliRunner()
    out = tmp_path / "test.csv"
    result = runner.invoke(cli, ["predictions", stack.run.name, "--split", "test", "--out", str(out)], env=_env(stack))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    header = list(rows[0])
    assert header[:2] == ["model", "reference_time"]
    assert header[2:5] == ["load.1.time", "load.1.actual", "load.1.predicted"]
    bounds = [c for c in header if c.startswith("load.1.") and c not in header[2:5]]
    assert bounds and all(c.split(".")[2].startswith(("lower_", "upper_")) for c in bounds)  # it has intervals
    assert header.index("load.2.time") == 5 + len(bounds)  # step 1's columns, then step 2's
    assert {r["model"] for r in rows} == {"linear", "dense"}
    stored_times, expected = stored_test_predictions(stack, "linear")
    linear = [r for r in rows if r["model"] == "linear"]
    assert [np.datetime64(r["reference_time"].rstrip("Z"), "s").astype(int) for r in linear] == list(stored_times)
    got = np.array([[float(r[f"load.{k}.predicted"]) for k in (1, 2, 3)] for r in linear])
    np.testing.assert_allclose(got, expected[:, :, 0], rtol=1e-12)
    step = np.datetime64(linear[0]["load.2.time"].rstrip("Z")) - np.datetime64(linear[0]["reference_time"].rstrip("Z"))
    assert step == np.timedelta64(2, "h")

    one = tmp_path / "validation.csv"
    name = stack.model("linear").removeprefix("runs/")
    result = runner.invoke(cli, ["predictions", name, "--split", "validation", "--out", str(one)], env=_env(stack))
    assert result.exit_code == 0, result.output
    assert {r["model"] for r in csv.DictReader(one.open())} == {"linear"}
