"""What the evaluation tests share: the models of their run, the finished run, and
evaluating (queue, then follow WatchEvaluation to the end)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.plugin import Tenant
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb
from tsforge.training.v1 import training_resources_pb2 as tr

MODELS = (
    tr.ModelSpec(model_id="linear", linear_regression={}),
    tr.ModelSpec(
        model_id="dense",
        seed=1,
        dense=tr.DenseParams(neural=tr.NeuralParams(layers=1, units=4, epochs=3, batch_size=16)),
    ),
    tr.ModelSpec(model_id="svr", svr_mimo=tr.SvrParams(kernel=tr.SVR_KERNEL_RBF)),
)
TERMINAL = (er.EVALUATION_STATE_READY, er.EVALUATION_STATE_FAILED)


@dataclass(frozen=True)
class FinishedRun:
    tenant: Tenant
    run: tr.Run
    dataset: tr.Dataset


def watch_evaluation(stub, tenant: Tenant, name: str, after: int = 0, timeout: float = 120) -> list[er.EvaluationEvent]:
    """Every event of the evaluation after `after`, until the stream ends (READY or FAILED)."""
    request = pb.WatchEvaluationRequest(name=name, after_sequence=after)
    return [response.event for response in stub.WatchEvaluation(request, metadata=tenant.metadata, timeout=timeout)]


def finished_evaluation(stub, tenant: Tenant, name: str, timeout: float = 120) -> er.Evaluation:
    """The evaluation once it is READY or FAILED (followed with WatchEvaluation)."""
    events = watch_evaluation(stub, tenant, name, timeout=timeout)
    assert events and events[-1].state_change.state in TERMINAL, events[-1:]
    return stub.GetEvaluation(pb.GetEvaluationRequest(name=name), metadata=tenant.metadata).evaluation


def evaluate(stub, tenant: Tenant, run: str, model: str = "", timeout: float = 120, **options) -> er.Evaluation:
    """Queues the evaluation of `run` (or `model`) with `options` and returns it finished."""
    created = stub.CreateEvaluation(
        pb.CreateEvaluationRequest(
            evaluation=er.Evaluation(run=run, model=model, options=er.EvaluationOptions(**options))
        ),
        metadata=tenant.metadata,
    ).evaluation
    return finished_evaluation(stub, tenant, created.name, timeout)
