"""tsforge.Client: the platform from Python, for internal services and notebooks.

    from tsforge.client import Client
    client = Client(edge="http://127.0.0.1:8080", token=TOKEN)   # or addresses={...}
    file = client.upload("load.csv", role="output")
    for event in client.watch(run.name): ...                    # re-attaches by itself
    forecast = client.predict("registeredModels/load@production", frame)

Every list is an iterator over all pages; every failed call raises a typed
TsforgeError (errors.py) carrying the field violations; calls the platform could not
answer (UNAVAILABLE) are retried by the channel (tsforge.core.channels.client_channel),
and a broken Watch* stream is re-attached after its last event (streams.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import grpc
import pandas as pd

from tsforge.client import frames, streams, uploads
from tsforge.client.errors import FailedPrecondition, TsforgeError, from_rpc_error
from tsforge.common.v1 import common_pb2
from tsforge.core.channels import client_channel
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as epb
from tsforge.evaluation.v1 import evaluation_service_pb2_grpc as epb_grpc
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.models.v1 import models_service_pb2 as mpb
from tsforge.models.v1 import models_service_pb2_grpc as mpb_grpc
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as tpb
from tsforge.training.v1 import training_service_pb2_grpc as tpb_grpc
from tsforge.upload.v1 import api_keys_pb2 as kpb
from tsforge.upload.v1 import upload_service_pb2 as upb
from tsforge.upload.v1 import upload_service_pb2_grpc as upb_grpc

SERVICES = ("upload", "training", "evaluation", "models")
ROLES = {"input": common_pb2.FEATURE_ROLE_INPUT, "output": common_pb2.FEATURE_ROLE_OUTPUT}
TERMINAL_RUN_STATES = (tr.RUN_STATE_SUCCEEDED, tr.RUN_STATE_FAILED, tr.RUN_STATE_CANCELLED)
SPLITS = {
    "train": common_pb2.DATA_SPLIT_TRAIN,
    "validation": common_pb2.DATA_SPLIT_VALIDATION,
    "test": common_pb2.DATA_SPLIT_TEST,
}


class Client:
    """One tenant's view of the platform.

    `edge` is the edge's address ("http://host:8080" or "host:8080": Envoy routes native
    gRPC to every service on that one port); otherwise `addresses` maps each service
    ("upload", "training", "evaluation", "models") to "host:port", and a service
    missing from it is reached at TSFORGE_<SERVICE>_ADDRESS (default 127.0.0.1 on the
    ports `tsforge up` uses).
    """

    def __init__(
        self,
        token: str,
        *,
        edge: str | None = None,
        addresses: Mapping[str, str] | None = None,
        max_message_bytes: int = 8 << 20,
    ):
        if edge is not None:
            parts = urlsplit(edge if "//" in edge else f"//{edge}")
            target = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
            addresses = dict.fromkeys(SERVICES, target)
        else:
            from tsforge.core.config import load_config

            addresses = {**load_config().addresses, **(addresses or {})}
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._channels = {address: client_channel(address, max_message_bytes) for address in set(addresses.values())}

        def channel(service: str) -> grpc.Channel:
            return self._channels[addresses[service]]

        self.uploads = upb_grpc.UploadServiceStub(channel("upload"))
        self.training = tpb_grpc.TrainingServiceStub(channel("training"))
        self.evaluation = epb_grpc.EvaluationServiceStub(channel("evaluation"))
        self.models = mpb_grpc.ModelsServiceStub(channel("models"))

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def call(self, method: Callable, request, **kwargs):
        """One unary call as the tenant; raises TsforgeError."""
        try:
            return method(request, metadata=self._metadata, **kwargs)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def pages(self, method: Callable, request, items: str) -> Iterator:
        """Every item of a paginated list, page by page."""
        while True:
            page = self.call(method, request)
            yield from getattr(page, items)
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token

    def stream(self, method: Callable, request, **kwargs) -> Iterator:
        try:
            yield from method(request, metadata=self._metadata, **kwargs)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # -- files -------------------------------------------------------------------

    def upload(
        self,
        source: str | Path | BinaryIO,
        role: str,
        *,
        file_name: str = "",
        display_name: str = "",
        description: str = "",
        progress: uploads.Progress | None = None,
    ) -> upb.File:
        """Uploads a CSV file (a path, or a seekable binary file object with `file_name`),
        resuming an unfinished upload of the same bytes; returns the File and its profile.

        `role` is "input" or "output"; `progress(received, total)` is called per chunk.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}, got {role!r}")
        if isinstance(source, str | Path):
            path = Path(source)
            with path.open("rb") as handle:
                return self.upload(
                    handle,
                    role,
                    file_name=file_name or path.name,
                    display_name=display_name,
                    description=description,
                    progress=progress,
                )
        if not file_name:
            raise ValueError("file_name is required with a file object")
        try:
            return uploads.upload(
                self.uploads, self._metadata, source, file_name, ROLES[role], display_name, description, progress
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def files(self, role: str | None = None, page_size: int = 200) -> Iterator[upb.File]:
        request = upb.ListFilesRequest(page_size=page_size, role=ROLES[role] if role else 0)
        return self.pages(self.uploads.ListFiles, request, "files")

    def file(self, name: str) -> upb.File:
        return self.call(self.uploads.GetFile, upb.GetFileRequest(name=name)).file

    def unfinished_uploads(self) -> Iterator[upb.Upload]:
        return self.pages(self.uploads.ListUploads, upb.ListUploadsRequest(page_size=200), "uploads")

    def unfinished_upload(self, path: str | Path) -> upb.Upload | None:
        """The unfinished upload of this very file (same name, size and SHA-256), if any:
        the one `upload(path, ...)` would resume."""
        path = Path(path)
        with path.open("rb") as handle:
            sha256, size = uploads.sha256_of(handle)
        try:
            return uploads.find_unfinished(self.uploads, self._metadata, path.name, size, sha256)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def abort_upload(self, name: str) -> None:
        self.call(self.uploads.AbortUpload, upb.AbortUploadRequest(name=name))

    def delete_file(self, name: str) -> None:
        self.call(self.uploads.DeleteFile, upb.DeleteFileRequest(name=name))

    def download_file(
        self, name: str, destination: str | Path, progress: streams.Progress | None = None
    ) -> upb.DownloadFileHeader:
        """The file's bytes into `destination` (written whole only when the SHA-256
        matches; `progress(done, total)` per chunk). Raises ValueError when corrupted."""
        messages = self.uploads.DownloadFile(upb.DownloadFileRequest(name=name), metadata=self._metadata)
        return streams.save_download(messages, Path(destination), progress)

    # -- API keys --------------------------------------------------------------------

    def create_api_key(self, display_name: str, expires_in: timedelta | None = None) -> tuple[kpb.ApiKey, str]:
        """A new API key of this tenant and its text (`tsf_...`), which is shown only
        now: keep it, e.g. as TSFORGE_TOKEN of a service account. Needs a token (a key
        cannot create keys). `expires_in`: None never expires."""
        key = kpb.ApiKey(display_name=display_name)
        if expires_in is not None:
            key.expire_time.FromDatetime(datetime.now(UTC) + expires_in)
        created = self.call(self.uploads.CreateApiKey, kpb.CreateApiKeyRequest(api_key=key))
        return created.api_key, created.key

    def api_keys(self, page_size: int = 200) -> Iterator[kpb.ApiKey]:
        """This tenant's API keys, newest first, revoked ones included (never their text)."""
        return self.pages(self.uploads.ListApiKeys, kpb.ListApiKeysRequest(page_size=page_size), "api_keys")

    def revoke_api_key(self, name: str) -> kpb.ApiKey:
        """Revokes "apiKeys/{id}" (again: no change); every service refuses it within
        TSFORGE_API_KEY_CACHE_SECONDS."""
        return self.call(self.uploads.RevokeApiKey, kpb.RevokeApiKeyRequest(name=name)).api_key

    def caller(self) -> kpb.GetCallerResponse:
        """Who this client's credential is: the tenant, and the API key if it is one."""
        return self.call(self.uploads.GetCaller, kpb.GetCallerRequest())

    # -- sessions, datasets, runs ---------------------------------------------------

    def create_session(self, spec: tr.DatasetSpec, display_name: str, description: str = "") -> tr.Session:
        session = tr.Session(display_name=display_name, description=description, spec=spec)
        return self.call(self.training.CreateSession, tpb.CreateSessionRequest(session=session)).session

    def sessions(self) -> Iterator[tr.Session]:
        return self.pages(self.training.ListSessions, tpb.ListSessionsRequest(page_size=200), "sessions")

    def build_dataset(self, session: str, on_event: Callable[[tr.DatasetBuildEvent], None] | None = None) -> tr.Dataset:
        """Builds the session's dataset and waits for it (events to `on_event`); the READY
        dataset. Raises FailedPrecondition when the build fails."""
        dataset = self.call(self.training.BuildDataset, tpb.BuildDatasetRequest(parent=session)).dataset
        return self.wait_for_dataset(dataset.name, on_event)

    def wait_for_dataset(self, name: str, on_event=None) -> tr.Dataset:
        """Follows a dataset build until it ends (re-attaching as watch() does); the READY
        dataset. Raises FailedPrecondition when the build failed."""
        for event in self.watch_dataset(name):
            if on_event:
                on_event(event)
        dataset = self.call(self.training.GetDataset, tpb.GetDatasetRequest(name=name)).dataset
        if dataset.state != tr.DATASET_STATE_READY:
            raise FailedPrecondition(grpc.StatusCode.FAILED_PRECONDITION, f"the build failed: {dataset.failure_reason}")
        return dataset

    def train(self, dataset: str, models: list[tr.ModelSpec], display_name: str = "") -> tr.Run:
        """Queues a run of `models` on a READY (or building) dataset."""
        run = tr.Run(dataset=dataset, model_specs=models, display_name=display_name)
        return self.call(self.training.CreateRun, tpb.CreateRunRequest(run=run)).run

    def run(self, name: str) -> tr.Run:
        return self.call(self.training.GetRun, tpb.GetRunRequest(name=name)).run

    def runs(self, session: str = "", state: int = 0) -> Iterator[tr.Run]:
        return self.pages(
            self.training.ListRuns, tpb.ListRunsRequest(page_size=200, session=session, state=state), "runs"
        )

    def cancel(self, name: str) -> tr.Run:
        return self.call(self.training.CancelRun, tpb.CancelRunRequest(name=name)).run

    def watch(self, run: str, after: int = 0, on_reattach: streams.Reattach | None = None) -> Iterator[tr.RunEvent]:
        """The run's events after `after`, then live ones until it ends. A broken stream
        (a restarting service or database) is re-attached after the last event seen, so
        nothing is missed or repeated (`on_reattach(code, last_sequence)` hears of it); it
        gives up after streams.REATTACH_SECONDS of failures."""
        return streams.follow(
            lambda last: self.training.WatchRun(
                tpb.WatchRunRequest(name=run, after_sequence=last), metadata=self._metadata
            ),
            after,
            on_reattach,
        )

    def watch_dataset(
        self, name: str, after: int = 0, on_reattach: streams.Reattach | None = None
    ) -> Iterator[tr.DatasetBuildEvent]:
        """A dataset build's events, as watch() follows a run's."""
        return streams.follow(
            lambda last: self.training.WatchDatasetBuild(
                tpb.WatchDatasetBuildRequest(name=name, after_sequence=last), metadata=self._metadata
            ),
            after,
            on_reattach,
        )

    def wait(self, run: str) -> tr.Run:
        """Follows the run until it ends; the run as it ended."""
        for _ in self.watch(run):
            pass
        return self.run(run)

    def predictions(self, model: str, split: str = "test") -> pd.DataFrame:
        """A trained model's stored predictions on one split: a row per reference time,
        feature and step, with the step's time, the actual and the predicted value (and the
        interval bounds when the model has them)."""
        request = tpb.ReadPredictionsRequest(name=model, split=SPLITS[split])
        return frames.predictions_frame(self.stream(self.training.ReadPredictions, request))

    def predictions_wide(self, model: str, split: str = "test") -> pd.DataFrame:
        """predictions() with a row per reference time: reference_time, then for each
        output feature and step `{feature}.{step}.time`, `.actual`, `.predicted` (and
        `.lower_{level}` / `.upper_{level}` when the model has intervals); see
        frames.wide_predictions."""
        return frames.wide_predictions(self.predictions(model, split))

    # -- evaluation ------------------------------------------------------------------

    def evaluate(self, run: str, model: str = "", seasons: tuple[int, ...] = ()) -> er.Evaluation:
        """The evaluation of the run (or one of its models), computed once and stored;
        waits until it is READY. Raises FailedPrecondition when it failed."""
        evaluation = er.Evaluation(run=run, model=model)
        evaluation.options.seasons.extend(seasons)
        result = self.call(self.evaluation.CreateEvaluation, epb.CreateEvaluationRequest(evaluation=evaluation))
        current = result.evaluation
        while current.state not in (er.EVALUATION_STATE_READY, er.EVALUATION_STATE_FAILED):
            # Queued: the stream ends with the event that made it READY or FAILED.
            for _ in self.watch_evaluation(current.name):
                pass
            current = self.call(self.evaluation.GetEvaluation, epb.GetEvaluationRequest(name=current.name)).evaluation
        if current.state == er.EVALUATION_STATE_FAILED:
            raise FailedPrecondition(grpc.StatusCode.FAILED_PRECONDITION, current.failure_reason)
        return current

    def watch_evaluation(
        self, name: str, after: int = 0, on_reattach: streams.Reattach | None = None
    ) -> Iterator[er.EvaluationEvent]:
        """An evaluation's events until it is READY or FAILED, as watch() follows a run's."""
        return streams.follow(
            lambda last: self.evaluation.WatchEvaluation(
                epb.WatchEvaluationRequest(name=name, after_sequence=last), metadata=self._metadata
            ),
            after,
            on_reattach,
        )

    def metric_table(self, evaluation: str, kind: int, split: str = "test", units: int = 0) -> list:
        """Every row of one table of a READY evaluation."""
        selector = epb.MetricTableSelector(kind=kind, split=SPLITS[split], units=units)
        return list(self.read_metric_table(evaluation, selector).rows)

    def read_metric_table(self, evaluation: str, selector: epb.MetricTableSelector) -> er.MetricTable:
        """One table of a READY evaluation, whole: its first page with the rows of every
        later page appended."""
        request = epb.ReadMetricTableRequest(name=evaluation, table=selector, page_size=1000)
        table: er.MetricTable | None = None
        while True:
            page = self.call(self.evaluation.ReadMetricTable, request)
            if table is None:
                table = page.table
            else:
                table.rows.extend(page.table.rows)
            if not page.next_page_token:
                return table
            request.page_token = page.next_page_token

    # -- the registry -------------------------------------------------------------------

    def register(self, model: str, source_model: str, description: str = "", tags: Mapping[str, str] | None = None):
        """The next version of `model` ("registeredModels/{id}" or just the id) from a
        trained model "runs/{run}/models/{model}"."""
        parent = model if model.startswith("registeredModels/") else f"registeredModels/{model}"
        version = mr.ModelVersion(source_model=source_model, description=description, tags=dict(tags or {}))
        request = mpb.RegisterModelVersionRequest(parent=parent, model_version=version)
        return self.call(self.models.RegisterModelVersion, request).model_version

    def registered_models(self, prefix: str = "", tag: str = "") -> Iterator[mr.RegisteredModel]:
        request = mpb.ListRegisteredModelsRequest(page_size=200, name_prefix=prefix, tag=tag)
        return self.pages(self.models.ListRegisteredModels, request, "registered_models")

    def versions(self, model: str) -> Iterator[mr.ModelVersion]:
        parent = model if model.startswith("registeredModels/") else f"registeredModels/{model}"
        request = mpb.ListModelVersionsRequest(parent=parent, page_size=200)
        return self.pages(self.models.ListModelVersions, request, "model_versions")

    def set_alias(self, model: str, alias: str, version: int) -> mr.RegisteredModel:
        name = model if model.startswith("registeredModels/") else f"registeredModels/{model}"
        request = mpb.SetAliasRequest(name=name, alias=alias, version=version)
        return self.call(self.models.SetAlias, request).registered_model

    def download_version(
        self, name: str, destination: str | Path, format: int = 0, progress: streams.Progress | None = None
    ):
        """A version (or `name@alias`) into `destination`: the BUNDLE zip by default,
        SHA-256 checked (`progress(done, total)` per chunk). Raises ValueError when corrupted."""
        request = mpb.DownloadModelVersionRequest(name=name, format=format)
        messages = self.models.DownloadModelVersion(request, metadata=self._metadata)
        return streams.save_download(messages, Path(destination), progress)

    def predict(
        self, version: str, inputs: pd.DataFrame | str | Path, reference_times: list[Any] | None = None
    ) -> pd.DataFrame:
        """Forecasts of `version` ("registeredModels/{id}/versions/{n}" or "…@alias") from
        `inputs`: a time-indexed frame (or one with a "time" column) with one column per
        series the version requires, or the path of a CSV file read as uploads are
        (frames.csv_frame; raises CsvProblem for a file it cannot read). Returns a row
        per reference time, output feature and step: reference_time, feature, step,
        time, value (and lower/upper bounds when the version has intervals). Without
        reference_times, the latest the inputs allow; a reference time without a zone
        is UTC."""
        if not isinstance(inputs, pd.DataFrame):
            inputs = frames.csv_frame(inputs)
        request = mpb.PredictRequest(name=version, series=frames.inline_inputs(inputs))
        for stamp in reference_times or ():
            request.reference_times.add().FromNanoseconds(int(frames.utc_instant(stamp).value))
        return frames.forecast_frame(self.call(self.models.Predict, request))


__all__ = ["Client", "TsforgeError"]
