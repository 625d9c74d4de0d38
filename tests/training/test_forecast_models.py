"""Lags and calendar at the output steps, the new model types, ensembles, intervals,
validation scores, time budgets and the automatic preset, through the real training
service and a spawned worker."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from services.training.build import load_arrays
from tests.training.helpers import build_ready_dataset, create_session, hourly_csv, wait_for_run
from tests.upload.helpers import stream_upload
from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb

HOURS = 24 * 21
START = datetime(2024, 12, 15)  # so that Christmas falls in the training windows


def noisy_pair(upload_stub, tenant, hours: int = HOURS, seed: int = 0) -> tuple[str, str]:
    """A temperature input and a load output with a daily and a weekly cycle and noise."""
    t = np.arange(hours)
    rng = np.random.default_rng(seed)
    temperature = 10 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.5, hours)
    load = 100 + 2 * temperature + 8 * np.sin(2 * np.pi * t / 168) + rng.normal(0, 1.0, hours)
    temperature_file = stream_upload(
        upload_stub, tenant, hourly_csv("temperature", temperature, START), file_name="t.csv"
    )
    load_file = stream_upload(
        upload_stub, tenant, hourly_csv("load", load, START), role=common_pb2.FEATURE_ROLE_OUTPUT, file_name="load.csv"
    )
    return temperature_file.name, load_file.name


def lag_spec(temperature: str, load: str) -> tr.DatasetSpec:
    return tr.DatasetSpec(
        inputs=[tr.FeatureSpec(file=temperature, horizon=common_pb2.HorizonHours(start=-6, end=0))],
        outputs=[tr.FeatureSpec(file=load, horizon=common_pb2.HorizonHours(start=0, end=3))],
        window=tr.WindowConfig(input_steps=6, output_steps=3, step_minutes=60),
        calendar=tr.CalendarFeatures(day=True),
        lags=[tr.LagFeature(lag_hours=24), tr.LagFeature(lag_hours=168), tr.LagFeature(file=temperature, lag_hours=24)],
        future_calendar=tr.CalendarFeatures(day=True, week=True, holiday=True, holiday_country="AT"),
    )


MODELS = [
    tr.ModelSpec(model_id="naive-day", seasonal_naive=tr.StatisticalParams(season_hours=[24])),
    tr.ModelSpec(model_id="linear", linear_regression=tr.LinearRegressionParams()),
    tr.ModelSpec(model_id="gbm", lightgbm=tr.LightGbmParams(n_estimators=40, min_child_samples=5)),
    tr.ModelSpec(model_id="mstl", mstl=tr.StatisticalParams(season_hours=[24, 168])),
    tr.ModelSpec(model_id="ets", auto_ets=tr.StatisticalParams(season_hours=[24])),
    tr.ModelSpec(model_id="svr", svr_direct=tr.SvrParams(kernel=tr.SVR_KERNEL_RBF)),
    tr.ModelSpec(model_id="dense", seed=1, dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=8, epochs=3))),
    tr.ModelSpec(model_id="blend", ensemble=tr.EnsembleParams()),
]


@pytest.fixture(scope="module")
def lag_run(training_stack):
    from tests.plugin import new_tenant

    tenant = new_tenant()
    files = noisy_pair(training_stack.upload.stub, tenant)
    session = create_session(training_stack.stub, tenant, lag_spec(*files))
    dataset = build_ready_dataset(training_stack.stub, tenant, session)
    run = training_stack.stub.CreateRun(
        pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=MODELS)), metadata=tenant.metadata
    ).run
    done = wait_for_run(training_stack.stub, tenant, run.name, timeout=300)
    return tenant, session, dataset, done


def test_lags_and_the_future_calendar_become_a_window_of_their_own(lag_run, training_stack):
    tenant, session, dataset, _ = lag_run
    assert [lag.feature for lag in session.spec.lags] == ["load.lag_24h", "load.lag_168h", "temperature.lag_24h"]
    assert session.spec.lags[0].file == session.spec.outputs[0].file  # defaulted to the output's file
    assert list(dataset.future_feature_names) == [
        "load.lag_24h",
        "load.lag_168h",
        "temperature.lag_24h",
        "future.calendar.week_sin",
        "future.calendar.week_cos",
        "future.calendar.day_sin",
        "future.calendar.day_cos",
        "future.calendar.holiday",
    ]
    assert list(dataset.future_shape) == [dataset.x_shape[0], 3, 8]
    # The weekly lag needs a week of data before the first reference time.
    assert dataset.dropped_sample_count >= 168
    assert [s.feature for s in dataset.scalers if s.role == common_pb2.FEATURE_ROLE_LAG] == [
        "load.lag_24h",
        "load.lag_168h",
        "temperature.lag_24h",
    ]
    assert "history" in {o.id for o in dataset.objects}
    arrays = _dataset_arrays(training_stack, tenant, dataset, "train")
    assert arrays["future"].shape == (dataset.train_sample_count, 3, 8)
    # Step k of the 24-hour load lag is the scaled load 24 h before output step k, which is
    # output step k of the window one day earlier.
    times = arrays["reference_times"]
    index = {int(t): i for i, t in enumerate(times)}
    pairs = [(i, index[int(t) - 86400]) for i, t in enumerate(times) if int(t) - 86400 in index]
    assert len(pairs) > 50
    later, earlier = np.array(pairs).T
    np.testing.assert_allclose(arrays["future"][later, :, 0], arrays["y"][earlier, :, 0], atol=1e-6)
    # 25 and 26 December are Austrian holidays.
    holiday = arrays["future"][:, :, 7]
    assert set(np.unique(holiday)) <= {0.0, 1.0} and holiday.max() == 1.0


def test_every_new_model_trains_with_intervals_and_a_validation_score(lag_run, training_stack):
    tenant, _, dataset, run = lag_run
    assert run.state == tr.RUN_STATE_SUCCEEDED, run
    by_id = {m.name.rsplit("/", 1)[1]: m for m in run.models}
    assert {k: tr.ModelState.Name(m.state) for k, m in by_id.items()} == {k: "MODEL_STATE_SUCCEEDED" for k in by_id}, [
        m.failure_reason for m in run.models
    ]
    assert by_id["gbm"].artifact_format == common_pb2.ARTIFACT_FORMAT_LIGHTGBM
    assert by_id["mstl"].artifact_format == common_pb2.ARTIFACT_FORMAT_JOBLIB
    assert by_id["blend"].artifact_format == common_pb2.ARTIFACT_FORMAT_ENSEMBLE
    assert list(by_id["blend"].spec.ensemble.members) == ["naive-day", "linear", "gbm", "mstl", "ets", "svr", "dense"]
    assert (
        list(by_id["ets"].spec.auto_ets.season_hours) == [24.0] and by_id["ets"].spec.auto_ets.history_steps == 100_000
    )
    for model in run.models:
        assert list(model.intervals.levels) == [0.8, 0.95], model.name
        assert model.intervals.calibration_sample_count == dataset.validation_sample_count
        assert len(model.intervals.half_widths) == 2 * 3 * 1
        assert model.validation.sample_count == dataset.validation_sample_count and model.validation.mae > 0
    scores = {k: m.validation.mae for k, m in by_id.items()}
    # The ensemble's weights are fitted on validation, its score is cross-fitted (each half
    # with the other half's weights): not always the best, but no worse than its worst member.
    assert scores["blend"] <= max(v for k, v in scores.items() if k != "blend")
    best = min(scores, key=scores.get)
    summary = [
        e.summary
        for e in (
            r.event for r in training_stack.stub.WatchRun(pb.WatchRunRequest(name=run.name), metadata=tenant.metadata)
        )
        if e.WhichOneof("event") == "summary"
    ][0]
    assert summary.best_model == f"{run.name}/models/{best}" and summary.succeeded_count == len(MODELS)

    stored = _predictions(training_stack, by_id["mstl"], common_pb2.DATA_SPLIT_TEST)
    widths = np.array(by_id["mstl"].intervals.half_widths).reshape(2, 3, 1)
    assert stored["lower"].shape == (dataset.test_sample_count, 2, 3, 1)
    np.testing.assert_allclose(
        stored["upper"] - stored["predicted"][:, None], np.broadcast_to(widths, stored["upper"].shape)
    )
    np.testing.assert_allclose(stored["interval_levels"], [0.8, 0.95])
    # Seasonal naive is the load one day before each step, exactly.
    naive = _predictions(training_stack, by_id["naive-day"], common_pb2.DATA_SPLIT_TEST)
    arrays = _dataset_arrays(training_stack, tenant, dataset, "test")
    scaler = next(s for s in dataset.scalers if s.role == common_pb2.FEATURE_ROLE_LAG)
    day_before = (arrays["future"][:, :, 0] - scaler.range.min) / (scaler.range.max - scaler.range.min)
    day_before = day_before * (scaler.data_max - scaler.data_min) + scaler.data_min
    np.testing.assert_allclose(naive["predicted"][:, :, 0], day_before, rtol=1e-5)


def test_lags_not_known_at_the_reference_time_and_bad_lags_are_refused(training_stack, tenant):
    import grpc

    from tests.training.helpers import expect_error
    from tests.upload.helpers import field_violations

    temperature, load = noisy_pair(training_stack.upload.stub, tenant, hours=48)
    spec = lag_spec(temperature, load)
    del spec.lags[:]
    spec.lags.add(lag_hours=2)  # the outputs reach 3 h ahead: a 2-hour lag is not known yet
    spec.lags.add(lag_hours=24, feature="same")
    spec.lags.add(lag_hours=48, feature="same")
    spec.lags.add(file="files/0123456789abcdef", lag_hours=24)
    spec.future_calendar.holiday_country = "XX"
    error = expect_error(lambda: create_session(training_stack.stub, tenant, spec), grpc.StatusCode.INVALID_ARGUMENT)
    violations = field_violations(error)
    assert set(violations) == {
        "session.spec.lags[0].lag_hours",
        "session.spec.lags[2].feature",
        "session.spec.lags[3].file",
        "session.spec.future_calendar.holiday_country",
    }
    assert "use at least 3 h" in violations["session.spec.lags[0].lag_hours"]


def test_time_budgets_stop_fits_early_and_skip_models_whose_time_has_passed(training_stack):
    from tests.plugin import new_tenant

    tenant = new_tenant()
    files = noisy_pair(training_stack.upload.stub, tenant, hours=24 * 8)
    spec = lag_spec(*files)
    del spec.lags[1]  # no weekly lag: eight days of data
    dataset = build_ready_dataset(training_stack.stub, tenant, create_session(training_stack.stub, tenant, spec))
    endless = tr.NeuralParams(layers=1, units=4, epochs=2000, early_stopping_patience=2000, batch_size=4)
    budget = tr.ModelSpec(model_id="budgeted", dense=tr.DenseParams(neural=endless))
    budget.time_limit.FromTimedelta(timedelta(seconds=2))
    unlimited = tr.ModelSpec(
        model_id="slow", dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=4, epochs=40, batch_size=4))
    )
    late = tr.ModelSpec(model_id="late", linear_regression=tr.LinearRegressionParams())
    late.time_limit.FromTimedelta(timedelta(seconds=1))
    blend = tr.ModelSpec(model_id="blend", ensemble=tr.EnsembleParams(members=["budgeted", "late"]))
    run = training_stack.stub.CreateRun(
        pb.CreateRunRequest(run=tr.Run(dataset=dataset.name, model_specs=[budget, unlimited, late, blend])),
        metadata=tenant.metadata,
    ).run
    done = wait_for_run(training_stack.stub, tenant, run.name, timeout=300)
    budgeted, slow, skipped, ensemble = done.models
    assert budgeted.state == tr.MODEL_STATE_SUCCEEDED and 1 <= len(budgeted.history) < 2000
    assert (budgeted.end_time.ToDatetime() - budgeted.start_time.ToDatetime()).total_seconds() < 30
    # "late" may run until the start plus 2 s + 1 s: "slow" took longer than that.
    assert slow.state == tr.MODEL_STATE_SUCCEEDED and skipped.state == tr.MODEL_STATE_SKIPPED
    assert ensemble.state == tr.MODEL_STATE_SUCCEEDED and list(ensemble.spec.ensemble.members) == ["budgeted"]
    assert done.state == tr.RUN_STATE_SUCCEEDED


def test_the_preset_chooses_seasons_lags_and_models_and_names_the_best(training_stack):
    from click.testing import CliRunner

    from tests.plugin import JWT_SECRET, new_tenant
    from tsforge.cli.main import cli

    tenant = new_tenant()
    temperature, load = noisy_pair(training_stack.upload.stub, tenant, hours=24 * 10)
    spec = lag_spec(temperature, load)
    del spec.lags[:]
    spec.ClearField("future_calendar")
    session = create_session(training_stack.stub, tenant, spec)
    env = {
        "TSFORGE_TRAINING_ADDRESS": training_stack.address,
        "TSFORGE_UPLOAD_ADDRESS": training_stack.upload.address,
        "TSFORGE_TOKEN": tenant.token,
        "TSFORGE_JWT_SECRET": JWT_SECRET,
    }
    result = CliRunner().invoke(cli, ["train", session.name, "--preset", "auto", "--time-limit", "90s"], env=env)
    assert result.exit_code == 0, result.output
    assert "auto: a season of 24 h (24 steps)" in result.output
    assert "no season of 168 h: the files overlap for 10.0 days" in result.output
    assert "run succeeded" in result.output and "(best)" in result.output
    run_name = result.output.split("started ", 1)[1].split()[0]
    run = training_stack.stub.GetRun(pb.GetRunRequest(name=run_name), metadata=tenant.metadata).run
    assert [m.name.rsplit("/", 1)[1] for m in run.models] == [
        "seasonal-naive-24h",
        "linear",
        "lightgbm",
        "mstl",
        "dense",
        "ensemble",
    ]
    assert all(m.spec.HasField("time_limit") for m in run.models[:-1])
    assert sum(m.spec.time_limit.seconds for m in run.models[:-1]) <= 0.8 * 90 + 5
    dataset = training_stack.stub.GetDataset(pb.GetDatasetRequest(name=run.dataset), metadata=tenant.metadata).dataset
    assert [lag.lag_hours for lag in dataset.spec.lags] == [24.0]
    assert dataset.spec.future_calendar.day and not dataset.spec.future_calendar.week
    assert (
        training_stack.stub.GetSession(pb.GetSessionRequest(name=session.name), metadata=tenant.metadata).session.spec
        == session.spec
    )  # the session itself is unchanged
    succeeded = [m for m in run.models if m.state == tr.MODEL_STATE_SUCCEEDED]
    assert len(succeeded) == len(run.models), [m.failure_reason for m in run.models]
    naive = next(m for m in run.models if m.model_type == common_pb2.MODEL_TYPE_SEASONAL_NAIVE)
    best = min(succeeded, key=lambda m: m.validation.mae)
    assert best.validation.mae < naive.validation.mae


def _predictions(stack, model: tr.ModelResult, split: int) -> dict:
    ref = next(p for p in model.predictions if p.split == split)
    return load_arrays(stack.store, ref.object.key)


def _dataset_arrays(stack, tenant, dataset: tr.Dataset, split: str) -> dict:
    ref = next(o for o in dataset.objects if o.id == f"arrays-{split}")
    return load_arrays(stack.store, ref.object.key)
