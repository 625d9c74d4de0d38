"""Sessions, datasets and runs end to end: real upload and training services, a
spawned worker, real PostgreSQL events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import grpc
import numpy as np

from tests.training.helpers import (
    build_ready_dataset,
    create_session,
    expect_error,
    small_spec,
    upload_pair,
    wait_for_run,
)
from tests.upload.helpers import field_violations
from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb


def test_a_session_becomes_a_dataset_and_a_run_trains_its_models(training_stack, tenant):
    stub = training_stack.stub
    temperature, load = upload_pair(training_stack.upload.stub, tenant)
    session = create_session(stub, tenant, small_spec(temperature, load))
    assert session.spec.inputs[0].feature == "temperature" and session.spec.split.train_fraction == 0.7

    dataset = build_ready_dataset(stub, tenant, session)
    assert list(dataset.x_shape)[1:] == [6, 3] and list(dataset.y_shape)[1:] == [3, 1]
    assert list(dataset.input_feature_names) == ["temperature", "calendar.day_sin", "calendar.day_cos"]
    total = dataset.train_sample_count + dataset.validation_sample_count + dataset.test_sample_count
    assert total == dataset.x_shape[0] and dataset.train_sample_count == round(total * 0.7)
    assert {o.id for o in dataset.objects} >= {"arrays-train", "arrays-validation", "arrays-test", "scalers"}
    assert any(o.kind == tr.DATASET_OBJECT_KIND_VIOLIN_PLOT for o in dataset.objects)

    run = stub.CreateRun(
        pb.CreateRunRequest(
            run=tr.Run(
                dataset=dataset.name,
                model_specs=[
                    tr.ModelSpec(linear_regression=tr.LinearRegressionParams()),
                    tr.ModelSpec(
                        model_id="dense", dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=4, epochs=2))
                    ),
                ],
            )
        ),
        metadata=tenant.metadata,
    ).run
    assert run.state == tr.RUN_STATE_QUEUED and [m.name for m in run.models] == [
        f"{run.name}/models/model-1",
        f"{run.name}/models/dense",
    ]
    events = [r.event for r in stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata, timeout=120)]
    kinds = [e.WhichOneof("event") for e in events]
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert kinds[0] == "state_change" and events[-1].state_change.state == tr.RUN_STATE_SUCCEEDED
    assert kinds.count("model_started") == 2 and kinds.count("model_finished") == 2
    assert kinds.count("epoch_end") == 2 and "summary" in kinds

    done = stub.GetRun(pb.GetRunRequest(name=run.name), metadata=tenant.metadata).run
    linear, dense = done.models
    assert linear.state == dense.state == tr.MODEL_STATE_SUCCEEDED
    assert linear.artifact_format == common_pb2.ARTIFACT_FORMAT_JOBLIB and len(dense.history) == 2

    messages = list(
        stub.ReadPredictions(
            pb.ReadPredictionsRequest(name=linear.name, split=common_pb2.DATA_SPLIT_TEST), metadata=tenant.metadata
        )
    )
    header = messages[0].header
    assert header.row_count == dataset.test_sample_count and header.features[0].feature == "load"
    predicted = np.array([v for m in messages[1:] for v in m.chunk.predicted])
    actual = np.array([v for m in messages[1:] for v in m.chunk.actual])
    assert len(predicted) == dataset.test_sample_count * 3
    assert np.abs(predicted - actual).mean() < 0.05 * np.abs(actual).mean()  # load follows temperature closely

    artifact = list(
        stub.DownloadModelArtifact(pb.DownloadModelArtifactRequest(name=dense.name), metadata=tenant.metadata)
    )
    assert artifact[0].header.size_bytes == sum(len(m.chunk) for m in artifact[1:]) > 0


def test_invalid_sessions_list_every_problem(training_stack, tenant, other_tenant):
    stub = training_stack.stub
    temperature, load = upload_pair(training_stack.upload.stub, tenant, hours=48)
    spec = small_spec(temperature, "files/0123456789abcdef")
    spec.window.offset_minutes = 90
    spec.inputs[0].horizon.start = 5
    spec.split.train_fraction, spec.split.validation_fraction, spec.split.test_fraction = 0.9, 0.2, 0.1
    spec.calendar.holiday, spec.calendar.holiday_country = True, "XX"
    error = expect_error(lambda: create_session(stub, tenant, spec), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(field_violations(error)) == {
        "session.spec.outputs[0].file",
        "session.spec.window.offset_minutes",
        "session.spec.inputs[0].horizon",
        "session.spec.split",
        "session.spec.calendar.holiday_country",
    }
    # Another tenant's file is as unknown as a missing one.
    error = expect_error(
        lambda: create_session(stub, other_tenant, small_spec(temperature, load)), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert set(field_violations(error)) == {"session.spec.inputs[0].file", "session.spec.outputs[0].file"}


def test_bad_model_specs_name_the_model_and_field(training_stack, tenant):
    stub = training_stack.stub
    session = create_session(stub, tenant, small_spec(*upload_pair(training_stack.upload.stub, tenant, hours=72)))
    dataset = build_ready_dataset(stub, tenant, session)
    error = expect_error(
        lambda: stub.CreateRun(
            pb.CreateRunRequest(
                run=tr.Run(
                    dataset=dataset.name,
                    model_specs=[
                        tr.ModelSpec(
                            model_id="wide", dense=tr.DenseParams(neural=tr.NeuralParams(units=5000, layers=17))
                        ),
                        tr.ModelSpec(cnn=tr.CnnParams(kernel_size=7)),
                    ],
                )
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    fields = field_violations(error)
    assert {
        "run.model_specs[0].dense.neural.units",
        "run.model_specs[0].dense.neural.layers",
        "run.model_specs[1].cnn.kernel_size",
    } <= set(fields)
    assert "wide" in fields["run.model_specs[0].dense.neural.units"]


def test_the_cli_creates_a_session_trains_and_watches_to_a_final_table(training_stack, tenant):
    from click.testing import CliRunner

    from tests.plugin import JWT_SECRET
    from tsforge.cli.main import cli

    temperature, load = upload_pair(training_stack.upload.stub, tenant)
    env = {
        "TSFORGE_TRAINING_ADDRESS": training_stack.address,
        "TSFORGE_UPLOAD_ADDRESS": training_stack.upload.address,
        "TSFORGE_TOKEN": tenant.token,
        "TSFORGE_JWT_SECRET": JWT_SECRET,
    }
    runner = CliRunner()
    created = runner.invoke(
        cli,
        [
            "session",
            "create",
            "cli",
            "--input",
            f"{temperature}@-6..0",
            "--output",
            f"{load}:load@0..3",
            "--input-steps",
            "6",
            "--output-steps",
            "3",
            "--calendar",
            "day",
            "--json",
        ],
        env=env,
    )
    assert created.exit_code == 0, created.output
    session_name = json.loads(created.stdout)["name"]
    trained = runner.invoke(
        cli,
        [
            "train",
            session_name,
            "--model",
            "linear",
            "--model",
            "dense",
            "--epochs",
            "2",
            "--layers",
            "1",
            "--units",
            "4",
        ],
        env=env,
    )
    assert trained.exit_code == 0, trained.output
    assert "dataset ready" in trained.output and "run succeeded" in trained.output
    assert "linear-1" in trained.output and "dense-2" in trained.output and "SUCCEEDED" in trained.output
    run_name = trained.output.split("started ", 1)[1].split()[0]
    watched = runner.invoke(cli, ["watch", run_name, "--json"], env=env)
    assert watched.exit_code == 0 and json.loads(watched.stdout)["state"] == "RUN_STATE_SUCCEEDED"


def test_sessions_update_by_mask_list_in_pages_and_delete_only_when_idle(training_stack, tenant):
    stub = training_stack.stub
    temperature, load = upload_pair(training_stack.upload.stub, tenant, hours=72)
    made = [create_session(stub, tenant, small_spec(temperature, load)) for _ in range(3)]
    seen, token = [], ""
    while True:
        page = stub.ListSessions(pb.ListSessionsRequest(page_size=2, page_token=token), metadata=tenant.metadata)
        seen += [s.name for s in page.sessions]
        token = page.next_page_token
        if not token:
            break
    assert seen == [s.name for s in reversed(made)]

    target = made[0]
    changed = tr.Session(
        name=target.name,
        display_name="renamed",
        spec=tr.DatasetSpec(window=tr.WindowConfig(input_steps=4, output_steps=2, step_minutes=30)),
    )
    updated = stub.UpdateSession(
        pb.UpdateSessionRequest(session=changed, update_mask={"paths": ["display_name", "spec.window"]}),
        metadata=tenant.metadata,
    ).session
    assert updated.display_name == "renamed" and updated.spec.window.step_minutes == 30
    assert updated.spec.inputs[0].file == temperature  # untouched by the mask
    error = expect_error(
        lambda: stub.UpdateSession(
            pb.UpdateSessionRequest(
                session=tr.Session(name=target.name, spec=tr.DatasetSpec(window=tr.WindowConfig(input_steps=5000))),
                update_mask={"paths": ["spec.window", "create_time"]},
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(field_violations(error)) == {"update_mask", "session.spec.window.input_steps"}

    dataset = build_ready_dataset(stub, tenant, made[1])
    run = stub.CreateRun(
        pb.CreateRunRequest(
            run=tr.Run(
                dataset=dataset.name,
                model_specs=[
                    tr.ModelSpec(
                        dense=tr.DenseParams(
                            neural=tr.NeuralParams(layers=1, units=4, epochs=2000, early_stopping_patience=2000)
                        )
                    )
                ],
            )
        ),
        metadata=tenant.metadata,
    ).run
    expect_error(
        lambda: stub.DeleteSession(pb.DeleteSessionRequest(name=made[1].name), metadata=tenant.metadata),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    stub.DeleteSession(pb.DeleteSessionRequest(name=made[1].name, force=True), metadata=tenant.metadata)
    expect_error(
        lambda: stub.GetRun(pb.GetRunRequest(name=run.name), metadata=tenant.metadata), grpc.StatusCode.NOT_FOUND
    )
    expect_error(
        lambda: stub.GetDataset(pb.GetDatasetRequest(name=dataset.name), metadata=tenant.metadata),
        grpc.StatusCode.NOT_FOUND,
    )
    session_id = made[1].name.split("/")[1]
    dataset_id = dataset.name.rsplit("/", 1)[1]
    assert list(training_stack.store.list(f"datasets/{tenant.name}/{dataset_id}/")) == []
    del session_id


def test_predictions_carry_the_output_history_that_naive_baselines_need(training_stack, tenant):
    stub = training_stack.stub
    session = create_session(stub, tenant, small_spec(*upload_pair(training_stack.upload.stub, tenant, hours=96)))
    dataset = build_ready_dataset(stub, tenant, session)
    run = stub.CreateRun(
        pb.CreateRunRequest(
            run=tr.Run(dataset=dataset.name, model_specs=[tr.ModelSpec(linear_regression=tr.LinearRegressionParams())])
        ),
        metadata=tenant.metadata,
    ).run
    assert wait_for_run(stub, tenant, run.name).state == tr.RUN_STATE_SUCCEEDED
    history_steps = 30
    messages = list(
        stub.ReadPredictions(
            pb.ReadPredictionsRequest(
                name=f"{run.name}/models/model-1", split=common_pb2.DATA_SPLIT_TRAIN, history_steps=history_steps
            ),
            metadata=tenant.metadata,
        )
    )
    assert messages[0].header.history_steps == history_steps
    times = [t.seconds for m in messages[1:] for t in m.chunk.reference_times]
    history = np.array([v for m in messages[1:] for v in m.chunk.history]).reshape(len(times), history_steps)
    start = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
    hours = (np.array(times) - start) / 3600
    for h in range(history_steps):
        t = hours - h  # h steps of the output's step width (1 hour) before the reference time
        expected = 100 + 3 * (10 + 5 * np.sin(2 * np.pi * t / 24)) + np.cos(2 * np.pi * t / 24)
        known = t >= 0  # the file starts at hour 0: earlier values are NaN
        assert np.allclose(history[known, h], expected[known], atol=1e-3)
        assert np.isnan(history[~known, h]).all()
    assert (~np.isnan(history)).any(axis=0).all() and np.isnan(history[0, -1])
    error = expect_error(
        lambda: list(
            stub.ReadPredictions(
                pb.ReadPredictionsRequest(
                    name=f"{run.name}/models/model-1", split=common_pb2.DATA_SPLIT_TEST, history_steps=5000
                ),
                metadata=tenant.metadata,
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "history_steps" in field_violations(error)
