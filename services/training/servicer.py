"""TrainingService over gRPC: messages in, domain calls, messages out."""

from __future__ import annotations

from services.training.jobs import Jobs
from services.training.results import Results
from services.training.sessions import Sessions
from tsforge.common.v1 import common_pb2
from tsforge.core import context
from tsforge.core.names import parse_name
from tsforge.training.v1 import training_service_pb2 as pb
from tsforge.training.v1 import training_service_pb2_grpc as pb_grpc


class TrainingServicer(pb_grpc.TrainingServiceServicer):
    def __init__(self, sessions: Sessions, jobs: Jobs, results: Results, on_sessions_deleted, auto=None):
        self._sessions = sessions
        self._jobs = jobs
        self._results = results
        self._on_deleted = on_sessions_deleted
        self._auto = auto  # services.training.auto_preset.AutoPreset

    def CreateSession(self, request, _context):
        return pb.CreateSessionResponse(session=self._sessions.create(context.tenant(), request.session))

    def GetSession(self, request, _context):
        return pb.GetSessionResponse(session=self._sessions.get(context.tenant(), parse_name(request.name, "sessions")))

    def ListSessions(self, request, _context):
        sessions, token = self._sessions.list(context.tenant(), request.page_size, request.page_token)
        return pb.ListSessionsResponse(sessions=sessions, next_page_token=token)

    def UpdateSession(self, request, _context):
        parse_name(request.session.name, "sessions", "session.name")
        return pb.UpdateSessionResponse(
            session=self._sessions.update(context.tenant(), request.session, request.update_mask)
        )

    def DeleteSession(self, request, _context):
        prefixes = self._sessions.delete(context.tenant(), parse_name(request.name, "sessions"), request.force)
        self._on_deleted(prefixes)
        return pb.DeleteSessionResponse()

    def BuildDataset(self, request, _context):
        session_id = parse_name(request.parent, "sessions", "parent")
        gap = request.gap_tolerance if request.HasField("gap_tolerance") else None
        return pb.BuildDatasetResponse(dataset=self._jobs.build_dataset(context.tenant(), session_id, gap))

    def GetDataset(self, request, _context):
        return pb.GetDatasetResponse(dataset=self._jobs.get_dataset(context.tenant(), request.name))

    def ListDatasets(self, request, _context):
        datasets, token = self._jobs.list_datasets(
            context.tenant(), parse_name(request.parent, "sessions", "parent"), request.page_size, request.page_token
        )
        return pb.ListDatasetsResponse(datasets=datasets, next_page_token=token)

    async def WatchDatasetBuild(self, request, _context):
        async for event in self._jobs.watch_dataset(context.tenant(), request.name, request.after_sequence):
            yield pb.WatchDatasetBuildResponse(event=event)

    def DownloadDatasetObject(self, request, _context):
        ref, chunks = self._results.dataset_object(context.tenant(), request.name, request.object_id)
        yield pb.DownloadDatasetObjectResponse(
            header=common_pb2.DownloadHeader(
                size_bytes=ref.size_bytes,
                sha256=ref.sha256,
                content_type=ref.content_type,
                file_name=ref.key.rsplit("/", 1)[1],
            )
        )
        for chunk in chunks:
            yield pb.DownloadDatasetObjectResponse(chunk=chunk)

    def CreateRun(self, request, _context):
        return pb.CreateRunResponse(run=self._jobs.create_run(context.tenant(), request.run))

    def GetRun(self, request, _context):
        return pb.GetRunResponse(run=self._jobs.get_run(context.tenant(), parse_name(request.name, "runs")))

    def ListRuns(self, request, _context):
        runs, token = self._jobs.list_runs(
            context.tenant(), request.page_size, request.page_token, request.session, request.state
        )
        return pb.ListRunsResponse(runs=runs, next_page_token=token)

    def CancelRun(self, request, _context):
        return pb.CancelRunResponse(run=self._jobs.cancel_run(context.tenant(), parse_name(request.name, "runs")))

    async def WatchRun(self, request, _context):
        run_id = parse_name(request.name, "runs")
        async for event in self._jobs.watch_run(context.tenant(), run_id, request.after_sequence):
            yield pb.WatchRunResponse(event=event)

    def ReadPredictions(self, request, _context):
        messages = self._results.predictions(
            context.tenant(), request.name, request.split, request.history_steps, request.rows_per_chunk
        )
        yield pb.ReadPredictionsResponse(header=next(messages))
        for chunk in messages:
            yield pb.ReadPredictionsResponse(chunk=chunk)

    def TrainAuto(self, request, _context):
        session_id = parse_name(request.session, "sessions", "session")
        dataset, run, plan = self._auto.start(
            context.tenant(),
            session_id,
            request.time_limit.ToTimedelta() if request.HasField("time_limit") else None,
            request.display_name,
            request.gap_tolerance if request.HasField("gap_tolerance") else None,
        )
        return pb.TrainAutoResponse(dataset=dataset, run=run, plan=plan)

    def DownloadModelArtifact(self, request, _context):
        model, chunks = self._results.artifact(context.tenant(), request.name, request.format)
        yield pb.DownloadModelArtifactResponse(
            header=common_pb2.DownloadHeader(
                size_bytes=model.artifact.size_bytes,
                sha256=model.artifact.sha256,
                content_type=model.artifact.content_type,
                file_name=model.artifact.key.rsplit("/", 1)[1],
            )
        )
        for chunk in chunks:
            yield pb.DownloadModelArtifactResponse(chunk=chunk)
