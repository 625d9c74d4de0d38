"""tsforge.client.Client against the real platform: the whole workflow as an internal
service would script it, with pages, live events, DataFrames and typed errors."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from tests.plugin import new_tenant, running_models_stack
from tests.training.helpers import hourly_csv, small_spec
from tsforge.client import Client, InvalidArgument, NotFound
from tsforge.core.storage import LocalObjectStore
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.training.v1 import training_resources_pb2 as tr

HOURS = 240


@pytest.fixture(scope="module")
def platform(db, database_url, tmp_path_factory):
    from tsforge.forecasting.estimators.keras_models import configure_runtime

    configure_runtime(2)  # Predict may load a Keras model in this process
    store = LocalObjectStore(tmp_path_factory.mktemp("client") / "objects")
    with running_models_stack(db, database_url, store) as (evaluation, _server, _stub, models_address):
        training = evaluation.training
        yield {
            "upload": training.upload.address,
            "training": training.address,
            "evaluation": evaluation.address,
            "models": models_address,
        }


def _series() -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(HOURS)
    temperature = 10 + 5 * np.sin(2 * np.pi * t / 24)
    return temperature, 100 + 3 * temperature + np.cos(2 * np.pi * t / 24)


def test_the_whole_workflow_through_the_client(platform, tmp_path):
    tenant = new_tenant()
    temperature, load = _series()
    (tmp_path / "t.csv").write_bytes(hourly_csv("temperature", temperature))
    seen: list[tuple[int, int]] = []
    with Client(tenant.token, addresses=platform) as client:
        inputs = client.upload(tmp_path / "t.csv", "input", progress=lambda done, total: seen.append((done, total)))
        outputs = client.upload(
            io.BytesIO(hourly_csv("load", load)), "output", file_name="load.csv", display_name="load"
        )
        assert seen[-1] == (inputs.size_bytes, inputs.size_bytes) and inputs.profile.row_count == HOURS
        assert {f.name for f in client.files(page_size=1)} == {inputs.name, outputs.name}  # over two pages
        assert [f.name for f in client.files(role="output")] == [outputs.name]

        session = client.create_session(small_spec(inputs.name, outputs.name), "client test")
        events: list[tr.DatasetBuildEvent] = []
        dataset = client.build_dataset(session.name, on_event=events.append)
        assert dataset.state == tr.DATASET_STATE_READY and events[-1].state_change.state == tr.DATASET_STATE_READY

        linear = tr.ModelSpec(model_id="linear", linear_regression={})
        run = client.train(dataset.name, [linear])
        watched = list(client.watch(run.name))
        assert [e.sequence for e in watched] == list(range(1, len(watched) + 1))
        assert watched[-1].state_change.state == tr.RUN_STATE_SUCCEEDED
        assert list(client.watch(run.name, after=watched[-1].sequence)) == []  # nothing left: ends at once
        assert client.wait(run.name).state == tr.RUN_STATE_SUCCEEDED
        assert [r.name for r in client.runs(session=session.name)] == [run.name]

        model = f"{run.name}/models/linear"
        frame = client.predictions(model, "test")
        assert len(frame) == dataset.test_sample_count * 3  # 3 steps of one output feature
        first = frame[frame.step == 2].iloc[0]
        assert first.time - first.reference_time == pd.Timedelta(hours=2)
        assert np.isfinite(frame.actual).all() and np.isfinite(frame.predicted).all()

        evaluation = client.evaluate(run.name)
        assert evaluation.state == er.EVALUATION_STATE_READY
        rows = client.metric_table(evaluation.name, er.METRIC_TABLE_KIND_OVERALL)
        assert any(row.model == model for row in rows)

        version = client.register("client-load", model, tags={"team": "grid"})
        client.set_alias("client-load", "production", version.version)
        bundle = tmp_path / "bundle.zip"
        header = client.download_version("registeredModels/client-load@production", bundle)
        assert bundle.stat().st_size == header.size_bytes and zipfile.ZipFile(bundle).testzip() is None
        assert [v.version for v in client.versions("client-load")] == [version.version]

        times = pd.date_range("2024-01-01", periods=HOURS, freq="h", tz="UTC")
        history = pd.DataFrame({"temperature": np.round(temperature, 4)}, index=times)
        forecast = client.predict("registeredModels/client-load@production", history.iloc[:100])
        assert list(forecast.step) == [1, 2, 3] and set(forecast.feature) == {"load"}
        assert (forecast.time - forecast.reference_time).tolist() == [pd.Timedelta(hours=h) for h in (1, 2, 3)]
        assert forecast.reference_time.iloc[0] == times[99]  # the latest the inputs allow
        expected = 100 + 3 * temperature[100:103] + np.cos(2 * np.pi * np.arange(100, 103) / 24)
        assert np.allclose(forecast.value, expected, atol=0.5)
        # A reference time with an offset is that instant (04:00+01:00 is 03:00 UTC) ...
        at = client.predict("registeredModels/client-load@production", history, ["2024-01-05T04:00+01:00"])
        assert at.reference_time.iloc[0] == times[99]
        # ... and a CSV file is read as uploads are: here `;`, decimal commas, day first.
        german = tmp_path / "german.csv"
        cells = [f"{t:%d.%m.%Y %H:%M};" + f"{v:.4f}".replace(".", ",") for t, v in zip(times[:100], temperature)]
        german.write_text("Zeit;temperature\n" + "\n".join(cells) + "\n", encoding="latin-1")
        from_file = client.predict("registeredModels/client-load@production", german)
        pd.testing.assert_frame_equal(from_file, forecast)


def test_failures_are_typed_with_their_violations(platform):
    tenant, other = new_tenant(), new_tenant()
    temperature, load = _series()
    with Client(tenant.token, addresses=platform) as client, Client(other.token, addresses=platform) as outsider:
        inputs = client.upload(io.BytesIO(hourly_csv("temperature", temperature)), "input", file_name="t.csv")
        with pytest.raises(NotFound):
            outsider.file(inputs.name)  # another tenant's file does not exist for it
        spec = small_spec(inputs.name, "files/nothing-here", input_steps=5000)
        with pytest.raises(InvalidArgument) as refused:
            client.create_session(spec, "bad")
        fields = {v.subject for v in refused.value.violations}
        assert {"session.spec.window.input_steps", "session.spec.outputs[0].file"} <= fields
        assert "input_steps" in str(refused.value)
        with pytest.raises(ValueError):
            client.upload(io.BytesIO(b"x"), "input")  # a file object needs a name
