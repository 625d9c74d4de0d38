"""Registering versions, their lineage and copied artifacts, registered models, versions
and aliases through the real service."""

from __future__ import annotations

import io
import json
import socket
import uuid
import zipfile

import grpc
from click.testing import CliRunner
from google.protobuf import field_mask_pb2

from tests.evaluation.helpers import evaluate
from tests.models.helpers import LINEAR, download, register, start_run
from tests.plugin import make_config, new_tenant
from tests.training.helpers import expect_error
from tsforge.cli.main import cli
from tsforge.common.v1 import common_pb2
from tsforge.core.channels import client_channel
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.models.v1 import models_service_pb2 as pb
from tsforge.models.v1 import models_service_pb2_grpc as models_grpc
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as training_pb


def _name() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


def test_register_numbers_versions_per_name_with_full_lineage(models_stack):
    stack, tenant, model = models_stack, models_stack.tenant, _name()
    first = register(stack.stub, tenant, model, stack.model("linear"), description="first", tags={"team": "grid"})
    second = register(stack.stub, tenant, model, stack.model("dense"))
    assert (first.name, first.version) == (f"registeredModels/{model}/versions/1", 1)
    assert (second.name, second.version) == (f"registeredModels/{model}/versions/2", 2)
    assert first.description == "first" and dict(first.tags) == {"team": "grid"}

    lineage = second.lineage
    run = stack.run
    assert (lineage.run, lineage.session, lineage.dataset, lineage.model) == (
        run.name,
        run.session,
        run.dataset,
        stack.model("dense"),
    )
    assert lineage.model_type == common_pb2.MODEL_TYPE_DENSE and lineage.model_spec.dense.neural.epochs == 3
    assert lineage.dataset_spec.window.input_steps == 6 and lineage.dataset_spec.calendar.day
    assert list(lineage.input_feature_names) == ["temperature", "calendar.day_sin", "calendar.day_cos"]
    assert list(lineage.output_feature_names) == ["load"]
    assert {s.feature for s in lineage.scalers} == {"temperature", "load"}
    assert not lineage.evaluation and not lineage.metrics  # the run was never evaluated
    assert list(second.formats) == [
        common_pb2.ARTIFACT_FORMAT_BUNDLE,
        common_pb2.ARTIFACT_FORMAT_KERAS,
        common_pb2.ARTIFACT_FORMAT_H5,
    ]
    assert list(first.formats) == [common_pb2.ARTIFACT_FORMAT_BUNDLE, common_pb2.ARTIFACT_FORMAT_JOBLIB]
    assert second.bundle.key.startswith(f"models/{tenant.name}/{model}/")

    got = stack.stub.GetRegisteredModel(
        pb.GetRegisteredModelRequest(name=f"registeredModels/{model}"), metadata=tenant.metadata
    ).registered_model
    assert got.latest_version == 2


def _evaluate(stack, tenant, run: str, model: str = "", **options) -> er.Evaluation:
    evaluation = evaluate(stack.evaluation.stub, tenant, run, model, **options)
    assert evaluation.state == er.EVALUATION_STATE_READY, evaluation.failure_reason
    return evaluation


def test_versions_keep_the_newest_evaluation_covering_their_model(models_stack):
    stack, tenant = models_stack, new_tenant()
    run = start_run(stack.training, tenant, LINEAR, tr.ModelSpec(model_id="other", linear_regression={}))
    linear, other = f"{run.name}/models/linear", f"{run.name}/models/other"
    unevaluated = register(stack.stub, tenant, _name(), linear)
    assert not unevaluated.lineage.evaluation and not unevaluated.lineage.metrics

    whole = _evaluate(stack, tenant, run.name)
    newest = _evaluate(stack, tenant, run.name, linear, infer_season=True)  # covers "linear" only
    version = register(stack.stub, tenant, _name(), linear)
    assert version.lineage.evaluation == newest.name
    kept = version.lineage.metrics
    assert [(t.kind, t.split, t.units) for t in kept] == [(t.kind, t.split, t.units) for t in newest.overall_tables]
    assert len(kept) == 4  # TEST and VALIDATION, ORIGINAL and SCALED
    for table, source in zip(kept, newest.overall_tables):
        assert list(table.rows) == [row for row in source.rows if row.model in (linear, "")]
        assert {row.model for row in table.rows} == {linear, ""}  # the model's rows and the baselines

    comparison = version.lineage.baseline_comparison
    assert comparison.best_baseline == newest.baseline_comparison.best_baseline
    assert set(comparison.models_beating_baseline) <= {linear}

    other_version = register(stack.stub, tenant, _name(), other)
    assert other_version.lineage.evaluation == whole.name  # the newer one did not evaluate "other"
    for table in other_version.lineage.metrics:
        assert {row.model for row in table.rows} == {other, ""}

    _, bundle = download(stack.stub, tenant, version.name, common_pb2.ARTIFACT_FORMAT_BUNDLE)
    lineage = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json"))["lineage"]
    assert lineage["evaluation"] == newest.name and len(lineage["metrics"]) == 4

    env = {"TSFORGE_MODELS_ADDRESS": stack.address, "TSFORGE_TOKEN": tenant.token, "COLUMNS": "200"}
    printed = CliRunner().invoke(cli, ["models", "register", _name(), linear], env=env)
    assert printed.exit_code == 0, printed.output
    assert f"with the metrics of {newest.name}" in printed.stdout
    assert "overall, test split" in printed.stdout and "baseline: naive" in printed.stdout
    assert "the strongest baseline" in " ".join(printed.stdout.split())


def test_registration_is_unavailable_without_the_evaluation_service(models_stack, db):
    from services.models.server import ModelsServer

    training = models_stack.training
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{unused.getsockname()[1]}"
    config = make_config(
        upload_address=training.upload.address, training_address=training.address, evaluation_address=nowhere
    )
    server = ModelsServer(config, db, models_stack.evaluation.store, "127.0.0.1:0")
    try:
        with client_channel(f"127.0.0.1:{server.port}") as channel:
            stub = models_grpc.ModelsServiceStub(channel)
            tenant, model = models_stack.tenant, _name()
            expect_error(
                lambda: register(stub, tenant, model, models_stack.model("linear")), grpc.StatusCode.UNAVAILABLE
            )
            expect_error(
                lambda: stub.GetRegisteredModel(
                    pb.GetRegisteredModelRequest(name=f"registeredModels/{model}"), metadata=tenant.metadata
                ),
                grpc.StatusCode.NOT_FOUND,
            )
    finally:
        server.stop(grace=0)


def test_register_refuses_bad_sources(models_stack):
    stack, tenant = models_stack, models_stack.tenant
    expect_error(
        lambda: register(stack.stub, tenant, "Bad_Name", stack.model("linear")), grpc.StatusCode.INVALID_ARGUMENT
    )
    expect_error(lambda: register(stack.stub, tenant, _name(), "runs/x"), grpc.StatusCode.INVALID_ARGUMENT)
    expect_error(
        lambda: register(stack.stub, tenant, _name(), f"{stack.run.name}/models/nope"), grpc.StatusCode.NOT_FOUND
    )
    expect_error(
        lambda: register(stack.stub, tenant, _name(), "runs/doesnotexist/models/linear"), grpc.StatusCode.NOT_FOUND
    )
    # A run that is not SUCCEEDED: cancelled before it ran.
    training = stack.training
    session = training.stub.GetSession(
        training_pb.GetSessionRequest(name=stack.run.session), metadata=tenant.metadata
    ).session
    from tsforge.training.v1 import training_resources_pb2 as tr

    queued = training.stub.CreateRun(
        training_pb.CreateRunRequest(run=tr.Run(dataset=session.latest_dataset, model_specs=[LINEAR])),
        metadata=tenant.metadata,
    ).run
    training.stub.CancelRun(training_pb.CancelRunRequest(name=queued.name), metadata=tenant.metadata)
    error = expect_error(
        lambda: register(stack.stub, tenant, _name(), f"{queued.name}/models/linear"),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "SUCCEEDED" in error.details()


def test_versions_outlive_the_deleted_session(models_stack):
    stack = models_stack
    tenant = new_tenant()
    run = start_run(stack.training, tenant, LINEAR)
    model = _name()
    version = register(stack.stub, tenant, model, f"{run.name}/models/linear")
    stack.training.stub.DeleteSession(
        training_pb.DeleteSessionRequest(name=run.session, force=True), metadata=tenant.metadata
    )
    expect_error(
        lambda: stack.training.stub.GetRun(training_pb.GetRunRequest(name=run.name), metadata=tenant.metadata),
        grpc.StatusCode.NOT_FOUND,
    )
    got = stack.stub.GetModelVersion(pb.GetModelVersionRequest(name=version.name), metadata=tenant.metadata)
    assert got.model_version.lineage.run == run.name
    _, bundle = download(stack.stub, tenant, version.name)
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(bundle)).namelist()
    _, joblib_bytes = download(stack.stub, tenant, version.name, common_pb2.ARTIFACT_FORMAT_JOBLIB)
    assert joblib_bytes


def test_registered_models_list_filter_page_update_delete(models_stack):
    stack, tenant = models_stack, new_tenant()
    # A tenant without runs: its versions are inserted through the repository.
    repository = stack.server.repository
    prefix = f"p{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{i:02d}" for i in range(5)]
    for name in names:
        repository.register_many(tenant.name, name, f"about {name}", [_fake_version()])
    stack.stub.UpdateRegisteredModel(
        pb.UpdateRegisteredModelRequest(
            registered_model=mr.RegisteredModel(
                name=f"registeredModels/{names[1]}", tags={"stage": "prod"}, description="changed"
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["tags"]),
        ),
        metadata=tenant.metadata,
    )
    repository.register_many(tenant.name, "other", "", [_fake_version()])

    seen, token = [], ""
    while True:
        page = stack.stub.ListRegisteredModels(
            pb.ListRegisteredModelsRequest(name_prefix=prefix, page_size=2, page_token=token), metadata=tenant.metadata
        )
        seen += [m.name for m in page.registered_models]
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"registeredModels/{n}" for n in names]
    for tag in ("stage", "stage=prod"):
        tagged = stack.stub.ListRegisteredModels(pb.ListRegisteredModelsRequest(tag=tag), metadata=tenant.metadata)
        assert [(m.name, m.description) for m in tagged.registered_models] == [
            (f"registeredModels/{names[1]}", f"about {names[1]}")
        ]  # description untouched: not in the mask
    assert not stack.stub.ListRegisteredModels(
        pb.ListRegisteredModelsRequest(tag="stage=dev"), metadata=tenant.metadata
    ).registered_models
    expect_error(
        lambda: stack.stub.UpdateRegisteredModel(
            pb.UpdateRegisteredModelRequest(
                registered_model=mr.RegisteredModel(name=f"registeredModels/{names[1]}"),
                update_mask=field_mask_pb2.FieldMask(paths=["latest_version"]),
            ),
            metadata=tenant.metadata,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )

    # Delete: refused while an alias points at a version, unless forced.
    target = f"registeredModels/{names[0]}"
    stack.stub.SetAlias(pb.SetAliasRequest(name=target, alias="production", version=1), metadata=tenant.metadata)
    expect_error(
        lambda: stack.stub.DeleteRegisteredModel(
            pb.DeleteRegisteredModelRequest(name=target), metadata=tenant.metadata
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    stack.stub.DeleteRegisteredModel(pb.DeleteRegisteredModelRequest(name=target, force=True), metadata=tenant.metadata)
    expect_error(
        lambda: stack.stub.GetRegisteredModel(pb.GetRegisteredModelRequest(name=target), metadata=tenant.metadata),
        grpc.StatusCode.NOT_FOUND,
    )
    # Without aliases a plain delete takes the versions with it.
    stack.stub.DeleteRegisteredModel(
        pb.DeleteRegisteredModelRequest(name=f"registeredModels/{names[2]}"), metadata=tenant.metadata
    )
    expect_error(
        lambda: stack.stub.GetModelVersion(
            pb.GetModelVersionRequest(name=f"registeredModels/{names[2]}/versions/1"), metadata=tenant.metadata
        ),
        grpc.StatusCode.NOT_FOUND,
    )


def test_versions_update_delete_and_aliases(models_stack):
    stack, tenant, model = models_stack, models_stack.tenant, _name()
    parent = f"registeredModels/{model}"
    for source in ("linear", "linear", "dense"):
        register(stack.stub, tenant, model, stack.model(source))
    listed = stack.stub.ListModelVersions(pb.ListModelVersionsRequest(parent=parent), metadata=tenant.metadata)
    assert [v.version for v in listed.model_versions] == [3, 2, 1]

    moved = stack.stub.SetAlias(
        pb.SetAliasRequest(name=parent, alias="production", version=1), metadata=tenant.metadata
    ).registered_model
    assert dict(moved.aliases) == {"production": 1}
    moved = stack.stub.SetAlias(
        pb.SetAliasRequest(name=parent, alias="production", version=3), metadata=tenant.metadata
    ).registered_model
    assert dict(moved.aliases) == {"production": 3}
    by_alias = stack.stub.GetModelVersion(
        pb.GetModelVersionRequest(name=f"{parent}@production"), metadata=tenant.metadata
    ).model_version
    assert by_alias.name == f"{parent}/versions/3" and list(by_alias.aliases) == ["production"]
    expect_error(
        lambda: stack.stub.SetAlias(pb.SetAliasRequest(name=parent, alias="Prod", version=1), metadata=tenant.metadata),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    expect_error(
        lambda: stack.stub.SetAlias(pb.SetAliasRequest(name=parent, alias="x", version=9), metadata=tenant.metadata),
        grpc.StatusCode.NOT_FOUND,
    )
    expect_error(
        lambda: stack.stub.GetModelVersion(
            pb.GetModelVersionRequest(name=f"{parent}@staging"), metadata=tenant.metadata
        ),
        grpc.StatusCode.NOT_FOUND,
    )

    updated = stack.stub.UpdateModelVersion(
        pb.UpdateModelVersionRequest(
            model_version=mr.ModelVersion(name=f"{parent}@production", description="the one", tags={"a": "b"}),
            update_mask=field_mask_pb2.FieldMask(paths=["description"]),
        ),
        metadata=tenant.metadata,
    ).model_version
    assert (updated.version, updated.description, dict(updated.tags)) == (3, "the one", {})

    expect_error(
        lambda: stack.stub.DeleteModelVersion(
            pb.DeleteModelVersionRequest(name=f"{parent}/versions/3"), metadata=tenant.metadata
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    expect_error(
        lambda: stack.stub.DeleteModelVersion(
            pb.DeleteModelVersionRequest(name=f"{parent}@production"), metadata=tenant.metadata
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    doomed = stack.stub.GetModelVersion(
        pb.GetModelVersionRequest(name=f"{parent}/versions/2"), metadata=tenant.metadata
    ).model_version
    stack.stub.DeleteModelVersion(pb.DeleteModelVersionRequest(name=f"{parent}/versions/2"), metadata=tenant.metadata)
    assert not stack.server.objects._store.exists(doomed.bundle.key)
    listed = stack.stub.ListModelVersions(pb.ListModelVersionsRequest(parent=parent), metadata=tenant.metadata)
    assert [v.version for v in listed.model_versions] == [3, 1]
    # Numbers are never reused.
    assert register(stack.stub, tenant, model, stack.model("linear")).version == 4

    after = stack.stub.DeleteAlias(
        pb.DeleteAliasRequest(name=parent, alias="production"), metadata=tenant.metadata
    ).registered_model
    assert dict(after.aliases) == {}
    expect_error(
        lambda: stack.stub.DeleteAlias(
            pb.DeleteAliasRequest(name=parent, alias="production"), metadata=tenant.metadata
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    stack.stub.DeleteModelVersion(pb.DeleteModelVersionRequest(name=f"{parent}/versions/3"), metadata=tenant.metadata)


def _fake_version(**fields):
    from services.models.domain import NewVersion

    return NewVersion(
        source_model="runs/r/models/m",
        lineage=mr.ModelLineage(run="runs/r").SerializeToString(),
        model_type=common_pb2.MODEL_TYPE_LINEAR_REGRESSION,
        artifact_format=common_pb2.ARTIFACT_FORMAT_JOBLIB,
        formats=(common_pb2.ARTIFACT_FORMAT_BUNDLE, common_pb2.ARTIFACT_FORMAT_JOBLIB),
        storage_prefix=f"models/fake/{uuid.uuid4().hex}/",
        artifact=common_pb2.ObjectRef(key="models/fake/a").SerializeToString(),
        bundle=common_pb2.ObjectRef(key="models/fake/b").SerializeToString(),
        **fields,
    )


def test_manifest_describes_window_features_and_lineage(models_stack):
    stack, tenant, model = models_stack, models_stack.tenant, _name()
    version = register(stack.stub, tenant, model, stack.model("linear"))
    _, bundle = download(stack.stub, tenant, version.name, common_pb2.ARTIFACT_FORMAT_BUNDLE)
    archive = zipfile.ZipFile(io.BytesIO(bundle))
    assert sorted(archive.namelist()) == ["README.md", "manifest.json", "model.joblib", "predict.py", "scalers.json"]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["window"] == {"input_steps": 6, "output_steps": 3, "step_minutes": 60, "offset_minutes": 0}
    assert manifest["model"]["loader"] == "sklearn-flattened"
    assert manifest["lineage"]["run"] == stack.run.name
    assert manifest["scalers"] == json.loads(archive.read("scalers.json"))


def test_registration_copies_the_runs_own_bytes_with_or_without_the_shared_store(models_stack, monkeypatch):
    """The artifact comes straight from the store when it holds the run's exact bytes,
    otherwise through the training service; scalers.json is the dataset's own."""
    stack, tenant = models_stack, models_stack.tenant
    training = stack.server.registry._training
    artifact_rpc = training.read_model_artifact(tenant.name, stack.model("dense"))
    dataset_scalers = training.read_dataset_object(tenant.name, stack.run.dataset, "scalers")
    calls = []
    original = type(training).read_model_artifact
    monkeypatch.setattr(training, "read_model_artifact", lambda *a: calls.append(a) or original(training, *a))
    direct = register(stack.stub, tenant, _name(), stack.model("dense"))
    assert calls == []
    # A store that does not hold those bytes (another store, or changed): the RPC.
    monkeypatch.setattr(stack.server.objects, "read_source", lambda ref: None)
    fallback = register(stack.stub, tenant, _name(), stack.model("dense"))
    assert calls == [(tenant.name, stack.model("dense"))]
    for version in (direct, fallback):
        _, keras = download(stack.stub, tenant, version.name, common_pb2.ARTIFACT_FORMAT_KERAS)
        assert keras == artifact_rpc
        _, bundle = download(stack.stub, tenant, version.name)
        assert json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("scalers.json")) == json.loads(dataset_scalers)


def test_read_source_refuses_bytes_that_do_not_match_the_ref(models_stack):
    import hashlib

    objects = models_stack.server.objects
    objects._store.put("models/check/x", [b"abc"])
    good = common_pb2.ObjectRef(key="models/check/x", size_bytes=3, sha256=hashlib.sha256(b"abc").hexdigest())
    assert objects.read_source(good) == b"abc"
    assert objects.read_source(common_pb2.ObjectRef(key="models/check/x", size_bytes=3, sha256="0" * 64)) is None
    assert (
        objects.read_source(common_pb2.ObjectRef(key="models/check/absent", size_bytes=3, sha256=good.sha256)) is None
    )
    assert objects.read_source(common_pb2.ObjectRef()) is None
