"""The console's forecasting features end to end in headless Chromium against the real
platform: a session with a seasonal lag and the calendar at the output steps, a run of
LightGBM, a statsforecast model and their ensemble watched until it succeeds, its
evaluation (a baseline per season, interval coverage), and Train automatically with a
one-minute limit followed live. The files are uploaded over gRPC (the upload page has its
own test), so the browser time goes to what is new."""

from __future__ import annotations

import os
import time

import numpy as np

from tests.plugin import new_tenant
from tests.training.helpers import hourly_csv
from tests.upload.helpers import stream_upload
from tests.web.helpers import WEB, run_node
from tsforge.common.v1 import common_pb2
from tsforge.core.channels import client_channel
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb
from tsforge.upload.v1 import upload_service_pb2_grpc as upload_grpc

HOURS = 24 * 22  # three weeks and a day: the preset and the evaluation find a weekly season


def _upload_files(address: str, tenant) -> None:
    t = np.arange(HOURS)
    rng = np.random.default_rng(3)
    temperature = 10 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, HOURS)
    load = 100 + 2 * temperature + 6 * np.sin(2 * np.pi * t / 168) + rng.normal(0, 0.5, HOURS)
    with client_channel(address) as channel:
        stub = upload_grpc.UploadServiceStub(channel)
        stream_upload(stub, tenant, hourly_csv("temperature", temperature), file_name="temperature.csv")
        stream_upload(stub, tenant, hourly_csv("load", load), role=common_pb2.FEATURE_ROLE_OUTPUT, file_name="load.csv")


def test_new_model_kinds_evaluation_and_train_auto_in_headless_chromium(platform):
    tenant = new_tenant()
    _upload_files(platform.upload_address, tenant)
    started = time.monotonic()
    result = run_node(
        WEB / "e2e" / "forecasting.e2e.mjs",
        {
            "CONSOLE_URL": platform.url,
            "TSFORGE_TOKEN": tenant.token,
            "SCREENSHOTS": os.environ.get("TSFORGE_SCREENSHOTS", ""),
        },
        timeout=300,
    )
    browser_seconds = time.monotonic() - started
    assert result["ok"], result
    assert result["consoleErrors"] == [], result["consoleErrors"]
    assert {page: v for page, v in result["axe"].items() if v} == {}, result["axe"]

    # The session: a lag too short is refused beside its field, the suggested one is kept.
    assert result["suggestedLag"] == "24"
    assert "use at least 3 h" in result["lagError"], result["lagError"]
    assert "load.lag_24h" in result["sessionLags"] and "load.lag_24h" in result["futureWindow"]
    assert "future.calendar.day_sin" in result["futureWindow"], result["futureWindow"]

    # The run: every model succeeded, named as people call it, with intervals; the models
    # without epochs were shown working rather than as an empty bar.
    assert "num_leaves" in result["leavesError"] or "leaves" in result["leavesError"], result["leavesError"]
    assert result["runState"] == "SUCCEEDED", result
    models = {m["model"]: m for m in result["models"]}
    assert {k: m["state"] for k, m in models.items()} == dict.fromkeys(
        ["linear", "lightgbm", "seasonal-naive", "ensemble"], "SUCCEEDED"
    )
    assert models["lightgbm"]["type"] == "LightGBM"
    assert models["seasonal-naive"]["type"] == "Seasonal naive (statsforecast)"
    assert all("80 %" in m["intervals"] for m in models.values()), models
    assert any(seen["working"] for seen in result["seen"]["run"].values()), result["seen"]["run"]
    assert "best on validation" in result["summary"]
    run = platform.training_stub.GetRun(training_pb.GetRunRequest(name=result["run"]), metadata=tenant.metadata).run
    by_id = {m.name.rsplit("/", 1)[1]: m for m in run.models}
    assert by_id["lightgbm"].spec.lightgbm.n_estimators == 30 and by_id["lightgbm"].spec.lightgbm.num_leaves == 8
    assert list(by_id["seasonal-naive"].spec.seasonal_naive.season_hours) == [24.0]
    assert list(by_id["ensemble"].spec.ensemble.members) == ["linear", "lightgbm", "seasonal-naive"]

    # The evaluation: a seasonal naive per season by its label, the baseline to beat, coverage.
    labels = [row[1] for row in result["ranking"]]
    assert "baseline: seasonal naive (1 day = 24 steps)" in labels, labels
    assert "seasonal naive (1 day = 24 steps)" in result["baselines"]
    assert "The baseline to beat" in result["bestBaseline"]
    assert {r["model"] for r in result["intervalRows"]} >= {"lightgbm", "seasonal-naive"}
    coverage = [r["coverage"] for r in result["intervalRows"]]
    assert all("%" in c and c.endswith("pt)") for c in coverage), coverage

    # Train automatically: refused below a minute, then its run appears and progresses live.
    assert "1 minute" in result["timeLimitError"]
    assert "season of 24 h" in result["autoPlan"], result["autoPlan"]
    auto = platform.training_stub.GetRun(
        training_pb.GetRunRequest(name=result["autoRun"]), metadata=tenant.metadata
    ).run
    assert auto.display_name == "auto" and auto.session == result["session"]
    assert {"linear", "lightgbm", "ensemble"} <= {m.name.rsplit("/", 1)[1] for m in auto.models}
    seen = result["seen"]["auto"]
    assert any("SUCCEEDED" in s["states"] for s in seen.values()), seen
    assert auto.state in (tr.RUN_STATE_RUNNING, tr.RUN_STATE_CANCELLED, tr.RUN_STATE_SUCCEEDED), auto.state
    assert "LightGBM" in result["runList"]
    progressed = result["autoProgressMs"] / 1000
    print(f"\n  forecasting e2e: {browser_seconds:.0f} s in the browser; auto run progressed in {progressed:.1f} s")
