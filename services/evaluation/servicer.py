"""EvaluationService over gRPC: messages in, domain calls, messages out."""

from __future__ import annotations

from services.evaluation.evaluations import Evaluations
from services.evaluation.rendering import Plots
from tsforge.core import context
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb
from tsforge.evaluation.v1 import evaluation_service_pb2_grpc as pb_grpc


class EvaluationServicer(pb_grpc.EvaluationServiceServicer):
    def __init__(self, evaluations: Evaluations, plots: Plots):
        self._evaluations = evaluations
        self._plots = plots

    def CreateEvaluation(self, request, _context):
        return pb.CreateEvaluationResponse(evaluation=self._evaluations.create(context.tenant(), request.evaluation))

    async def WatchEvaluation(self, request, _context):
        async for event in self._evaluations.watch(context.tenant(), request.name, request.after_sequence):
            yield pb.WatchEvaluationResponse(event=event)

    def GetEvaluation(self, request, _context):
        return pb.GetEvaluationResponse(evaluation=self._evaluations.get(context.tenant(), request.name))

    def ListEvaluations(self, request, _context):
        evaluations, token = self._evaluations.list(
            context.tenant(), request.page_size, request.page_token, request.run
        )
        return pb.ListEvaluationsResponse(evaluations=evaluations, next_page_token=token)

    def ReadMetricTable(self, request, _context):
        table, token = self._evaluations.read_table(
            context.tenant(), request.name, request.table, request.page_size, request.page_token
        )
        return pb.ReadMetricTableResponse(table=table, next_page_token=token)

    def ExportMetricTable(self, request, _context):
        header, chunks = self._evaluations.export_table(context.tenant(), request.name, request.table)
        yield pb.ExportMetricTableResponse(header=header)
        for chunk in chunks:
            yield pb.ExportMetricTableResponse(chunk=chunk)

    def RenderPlot(self, request, _context):
        content_type, data = self._plots.render(context.tenant(), request)
        return pb.RenderPlotResponse(content_type=content_type, data=data)
