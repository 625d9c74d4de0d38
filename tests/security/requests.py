"""For every RPC, a well-formed request that names the owner's resources.

The resource a request names comes from its REST path template (`{name=files/*}` gets
the owner's file), so a new RPC on an existing resource needs nothing here. EXTRAS
adds what an RPC needs besides (a mask, a split, inputs) to get past its own checks
to the ownership check; RPCs that name no resource are listed with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf import message as protobuf_message

from tests.models.helpers import LINEAR
from tests.security.descriptors import Rpc, all_rpcs
from tests.training.helpers import small_spec
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as evaluation_pb

# RPCs that name none of another tenant's resources: they only list or create the caller's own.
LISTS_OWN = frozenset(
    {"UploadService.ListUploads", "UploadService.ListFiles", "UploadService.ListApiKeys"}
    | {"TrainingService.ListSessions", "ModelsService.ListRegisteredModels"}
)
CREATES_OWN = frozenset({"UploadService.CreateUpload", "UploadService.UploadFile", "UploadService.CreateApiKey"})
# Says who the caller is, whatever it names (nothing): each tenant sees only itself.
ABOUT_THE_CALLER = frozenset({"UploadService.GetCaller"})


def _mask(field: str) -> Callable:
    def fill(request, resources):
        getattr(request, field).paths.append("description")

    return fill


def _create_session(request, resources):
    request.session.display_name = "probe"
    request.session.spec.CopyFrom(small_spec(resources["files/*"], resources["files/*#load"]))


def _create_run(request, resources):
    request.run.dataset = resources["sessions/*/datasets/*"]
    request.run.model_specs.append(LINEAR)


def _predict(request, resources):
    request.files.inputs.add(feature="temperature", file=resources["files/*"])


def _table(request, resources):
    request.table.kind = er.METRIC_TABLE_KIND_OVERALL


EXTRAS: dict[str, Callable] = {
    "UploadService.WriteUploadChunk": lambda r, _: setattr(r, "data", b"x"),
    "UploadService.CompleteUpload": lambda r, _: setattr(r, "sha256", "0" * 64),
    "UploadService.UpdateFile": _mask("update_mask"),
    "TrainingService.CreateSession": _create_session,
    "TrainingService.UpdateSession": _mask("update_mask"),
    "TrainingService.DownloadDatasetObject": lambda r, _: setattr(r, "object_id", "scalers"),
    "TrainingService.CreateRun": _create_run,
    "TrainingService.ListRuns": lambda r, res: setattr(r, "session", res["sessions/*"]),
    "TrainingService.ReadPredictions": lambda r, _: setattr(r, "split", common_pb2.DATA_SPLIT_TEST),
    "EvaluationService.CreateEvaluation": lambda r, res: setattr(r.evaluation, "run", res["runs/*"]),
    "EvaluationService.ListEvaluations": lambda r, res: setattr(r, "run", res["runs/*"]),
    "EvaluationService.ReadMetricTable": _table,
    "EvaluationService.ExportMetricTable": _table,
    "EvaluationService.RenderPlot": lambda r, _: setattr(r, "kind", evaluation_pb.PLOT_KIND_LOSS_CURVES),
    "ModelsService.RegisterModelVersion": lambda r, res: setattr(
        r.model_version, "source_model", res["runs/*/models/*"]
    ),
    "ModelsService.UpdateRegisteredModel": _mask("update_mask"),
    "ModelsService.UpdateModelVersion": _mask("update_mask"),
    "ModelsService.SetAlias": lambda r, _: r.MergeFrom(type(r)(alias="staging", version=1)),
    "ModelsService.DeleteAlias": lambda r, _: setattr(r, "alias", "production"),
    "ModelsService.Predict": _predict,
}


def owner_request(rpc: Rpc, resources: dict[str, str]) -> protobuf_message.Message:
    """The RPC's request naming the owner's resources (see the module docstring)."""
    request = rpc.request_class()
    for field_path, pattern in rpc.path_resources().items():
        *parents, leaf = field_path.split(".")
        holder = request
        for parent in parents:
            holder = getattr(holder, parent)
        setattr(holder, leaf, resources[pattern])
    extra = EXTRAS.get(rpc.name)
    if extra is not None:
        extra(request, resources)
    return request


def names_a_resource(rpc: Rpc) -> bool:
    return bool(rpc.path_resources()) or rpc.name in EXTRAS


def assert_owner_untouched(secured) -> None:
    """Each of the owner's resources that has a Get RPC still answers it."""
    getters = {
        pattern: rpc
        for rpc in all_rpcs()
        if rpc.method.name.startswith("Get")
        for pattern in rpc.path_resources().values()
    }
    checked = 0
    for pattern, name in secured.resources.items():
        getter = getters.get(pattern)
        if getter is None:
            continue
        request = owner_request(getter, secured.resources)
        outcome = secured.caller.call(getter, request.SerializeToString(), secured.owner.metadata)
        assert outcome.code == grpc.StatusCode.OK, (name, str(outcome))
        checked += 1
    assert checked >= 8


def safe_for_the_owner(rpc: Rpc) -> bool:
    """RPCs the owner may call with any values without losing a resource or queueing work."""
    reads = ("Get", "List", "Read", "Export", "Render", "Download", "Watch", "Preview", "Update")
    return rpc.method.name.startswith(reads) or rpc.method.name in ("Predict", "CreateSession", "CreateUpload")
