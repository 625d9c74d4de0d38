"""The evaluation service, as the registry sees it: the metrics a model had when it was
registered, read through the evaluation service's own RPCs acting for the tenant."""

from __future__ import annotations

import grpc

from tsforge.core.clients import ServiceClient
from tsforge.core.errors import Unavailable
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb
from tsforge.evaluation.v1 import evaluation_service_pb2_grpc as pb_grpc

PAGE_SIZE = 50


class EvaluationClient(ServiceClient):
    def __init__(self, address: str, jwt_secret: str, timeout: float = 30.0, max_message_bytes: int = 8 << 20):
        super().__init__(pb_grpc.EvaluationServiceStub, address, jwt_secret, timeout, max_message_bytes)

    def newest_covering(self, tenant: str, run: str, model: str) -> er.Evaluation | None:
        """The newest READY evaluation of `run` that evaluated `model`, or None.

        Raises Unavailable when the evaluation service cannot answer: a version's
        lineage never changes, so it is not registered with its metrics silently missing.
        """
        metadata = self._metadata(tenant)
        token = ""
        while True:
            try:
                page = self._stub.ListEvaluations(
                    pb.ListEvaluationsRequest(run=run, page_size=PAGE_SIZE, page_token=token),
                    metadata=metadata,
                    timeout=self._timeout,
                )
            except grpc.RpcError as error:
                raise Unavailable(
                    f"the evaluation service could not list the evaluations of {run}: {error.details()}"
                ) from None
            for evaluation in page.evaluations:  # newest first
                if evaluation.state == er.EVALUATION_STATE_READY and model in evaluation.models:
                    return evaluation
            token = page.next_page_token
            if not token:
                return None


def model_comparison(evaluation: er.Evaluation, model: str) -> er.BaselineComparison | None:
    """The evaluation's baseline comparison with models_beating_baseline reduced to
    `model` (kept when it beats the strongest baseline); None when it has none."""
    if not evaluation.HasField("baseline_comparison"):
        return None
    reduced = er.BaselineComparison()
    reduced.CopyFrom(evaluation.baseline_comparison)
    beating = model in evaluation.baseline_comparison.models_beating_baseline
    del reduced.models_beating_baseline[:]
    if beating:
        reduced.models_beating_baseline.append(model)
    return reduced


def model_metrics(evaluation: er.Evaluation, model: str) -> list[er.MetricTable]:
    """The evaluation's OVERALL tables reduced to `model`'s rows and the baseline rows."""
    tables = []
    for table in evaluation.overall_tables:
        reduced = er.MetricTable()
        reduced.CopyFrom(table)
        del reduced.rows[:]
        reduced.rows.extend(row for row in table.rows if row.model in (model, ""))
        tables.append(reduced)
    return tables
