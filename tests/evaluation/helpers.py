"""What the evaluation tests share: the models of their run, and the finished run."""

from __future__ import annotations

from dataclasses import dataclass

from tests.plugin import Tenant
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


@dataclass(frozen=True)
class FinishedRun:
    tenant: Tenant
    run: tr.Run
    dataset: tr.Dataset
