"""Model specifications: proto ModelSpecs resolved into validated, defaulted dataclasses.

The gRPC service process imports this module to validate StartRun requests, so it must
never import TensorFlow (about 7 s) or scikit-learn; only worker processes train.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_resources_pb2 as pb

MAX_MODELS_PER_RUN = 16


@dataclass(frozen=True)
class Violation:
    """One problem of a model spec: the field path (e.g. `model_specs[2].cnn.kernel_size`)
    and what is wrong. Services turn these into their field violations."""

    field: str
    description: str


class InvalidModelSpecs(ValueError):
    """Model specs with problems; `violations` lists every one."""

    def __init__(self, violations: list[Violation]):
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


MODEL_ID_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,62}")

LAYERS_RANGE = (1, 16)
UNITS_RANGE = (1, 4096)
EPOCHS_RANGE = (1, 2000)
BATCH_SIZE_RANGE = (1, 65536)
PATIENCE_RANGE = (0, 2000)


class ModelKind(enum.StrEnum):
    """The seven model types; each value is its field name in ModelSpec's `params` oneof."""

    DENSE = "dense"
    CNN = "cnn"
    LSTM = "lstm"
    AR_LSTM = "ar_lstm"
    SVR_DIRECT = "svr_direct"
    SVR_MIMO = "svr_mimo"
    LINEAR_REGRESSION = "linear_regression"

    @property
    def proto(self) -> int:
        """The tsforge.common.v1.ModelType value."""
        return common_pb2.ModelType.Value(f"MODEL_TYPE_{self.name}")

    @property
    def is_keras(self) -> bool:
        return self in (ModelKind.DENSE, ModelKind.CNN, ModelKind.LSTM, ModelKind.AR_LSTM)


# Keras activation names by proto enum value; the keys are exactly the valid values.
_ACTIVATIONS: dict[int, str] = {
    pb.ACTIVATION_RELU: "relu",
    pb.ACTIVATION_SIGMOID: "sigmoid",
    pb.ACTIVATION_TANH: "tanh",
    pb.ACTIVATION_SOFTMAX: "softmax",
    pb.ACTIVATION_LINEAR: "linear",
    pb.ACTIVATION_ELU: "elu",
    pb.ACTIVATION_SELU: "selu",
    pb.ACTIVATION_SOFTPLUS: "softplus",
    pb.ACTIVATION_SOFTSIGN: "softsign",
    pb.ACTIVATION_SWISH: "swish",
    pb.ACTIVATION_GELU: "gelu",
}
_SVR_KERNELS: dict[int, str] = {
    pb.SVR_KERNEL_LINEAR: "linear",
    pb.SVR_KERNEL_POLY: "poly",
    pb.SVR_KERNEL_RBF: "rbf",
    pb.SVR_KERNEL_SIGMOID: "sigmoid",
}


@dataclass(frozen=True)
class NeuralSpec:
    """Network and training settings shared by the Keras models."""

    layers: int = 3
    units: int = 512
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 0.001
    activation: str = "relu"
    early_stopping_patience: int = 2


@dataclass(frozen=True)
class DenseSpec:
    kind: ClassVar[ModelKind] = ModelKind.DENSE
    neural: NeuralSpec = NeuralSpec()


@dataclass(frozen=True)
class CnnSpec:
    kind: ClassVar[ModelKind] = ModelKind.CNN
    neural: NeuralSpec = NeuralSpec()
    kernel_size: int = 3


@dataclass(frozen=True)
class LstmSpec:
    kind: ClassVar[ModelKind] = ModelKind.LSTM
    neural: NeuralSpec = NeuralSpec()


@dataclass(frozen=True)
class ArLstmSpec:
    kind: ClassVar[ModelKind] = ModelKind.AR_LSTM
    neural: NeuralSpec = NeuralSpec()


@dataclass(frozen=True)
class SvrSpec:
    """SVR settings shared by both strategies; inputs are always standardised."""

    kernel: str = "poly"
    c: float = 1.0
    epsilon: float = 0.1


@dataclass(frozen=True)
class SvrDirectSpec(SvrSpec):
    kind: ClassVar[ModelKind] = ModelKind.SVR_DIRECT


@dataclass(frozen=True)
class SvrMimoSpec(SvrSpec):
    kind: ClassVar[ModelKind] = ModelKind.SVR_MIMO


@dataclass(frozen=True)
class LinearRegressionSpec:
    kind: ClassVar[ModelKind] = ModelKind.LINEAR_REGRESSION


KerasSpec = DenseSpec | CnnSpec | LstmSpec | ArLstmSpec
ModelParams = KerasSpec | SvrDirectSpec | SvrMimoSpec | LinearRegressionSpec


@dataclass(frozen=True)
class ResolvedModel:
    """One model of a run, every default filled in and every bound checked."""

    model_id: str
    display_name: str
    seed: int
    params: ModelParams

    @property
    def kind(self) -> ModelKind:
        return self.params.kind


class _Checker:
    """Collects violations for one spec, each naming the model and the field path."""

    def __init__(self, prefix: str, model_id: str, violations: list[Violation]):
        self.prefix = prefix
        self.model_id = model_id
        self.violations = violations

    def report(self, field: str, problem: str) -> None:
        path = f"{self.prefix}.{field}" if field else self.prefix
        self.violations.append(Violation(path, f"model '{self.model_id}': {problem}"))

    def int_in(self, field: str, value: int, default: int, bounds: tuple[int, int]) -> int:
        """value, or default when 0; reported unless within bounds."""
        value = value or default
        low, high = bounds
        if not low <= value <= high:
            self.report(field, f"{field.rsplit('.', 1)[-1]} must be between {low} and {high}, got {value}")
        return value


def _resolve_neural(params: pb.NeuralParams, field: str, check: _Checker) -> NeuralSpec:
    defaults = NeuralSpec()
    layers = check.int_in(f"{field}.layers", params.layers, defaults.layers, LAYERS_RANGE)
    units = check.int_in(f"{field}.units", params.units, defaults.units, UNITS_RANGE)
    epochs = check.int_in(f"{field}.epochs", params.epochs, defaults.epochs, EPOCHS_RANGE)
    batch_size = check.int_in(f"{field}.batch_size", params.batch_size, defaults.batch_size, BATCH_SIZE_RANGE)
    learning_rate = params.learning_rate or defaults.learning_rate
    if not 0 < learning_rate <= 1:  # also false for NaN
        check.report(f"{field}.learning_rate", f"learning_rate must be > 0 and <= 1, got {learning_rate}")
    activation = defaults.activation
    if params.activation != pb.ACTIVATION_UNSPECIFIED:
        if params.activation in _ACTIVATIONS:
            activation = _ACTIVATIONS[params.activation]
        else:
            check.report(f"{field}.activation", f"unknown activation {params.activation}")
    patience = defaults.early_stopping_patience
    if params.HasField("early_stopping_patience"):
        patience = params.early_stopping_patience
        low, high = PATIENCE_RANGE
        if not low <= patience <= high:
            check.report(
                f"{field}.early_stopping_patience",
                f"early_stopping_patience must be between {low} and {high}, got {patience}",
            )
    return NeuralSpec(layers, units, epochs, batch_size, learning_rate, activation, patience)


def _resolve_svr(params: pb.SvrParams, field: str, check: _Checker) -> tuple[str, float, float]:
    defaults = SvrSpec()
    kernel = defaults.kernel
    if params.kernel != pb.SVR_KERNEL_UNSPECIFIED:
        if params.kernel in _SVR_KERNELS:
            kernel = _SVR_KERNELS[params.kernel]
        else:
            check.report(f"{field}.kernel", f"unknown SVR kernel {params.kernel}")
    c = params.c or defaults.c
    if not (math.isfinite(c) and c > 0):
        check.report(f"{field}.c", f"c must be a finite number > 0, got {c}")
    epsilon = params.epsilon if params.HasField("epsilon") else defaults.epsilon
    if not (math.isfinite(epsilon) and epsilon >= 0):
        check.report(f"{field}.epsilon", f"epsilon must be a finite number >= 0, got {epsilon}")
    return kernel, c, epsilon


def _resolve_params(spec: pb.ModelSpec, input_steps: int, check: _Checker) -> ModelParams | None:
    field = spec.WhichOneof("params")
    if field is None:
        check.report("params", "a model type is required: one of " + ", ".join(kind.value for kind in ModelKind))
        return None
    kind = ModelKind(field)
    message = getattr(spec, field)
    if kind in (ModelKind.DENSE, ModelKind.LSTM, ModelKind.AR_LSTM):
        neural = _resolve_neural(message.neural, f"{field}.neural", check)
        return {ModelKind.DENSE: DenseSpec, ModelKind.LSTM: LstmSpec, ModelKind.AR_LSTM: ArLstmSpec}[kind](neural)
    if kind is ModelKind.CNN:
        neural = _resolve_neural(message.neural, f"{field}.neural", check)
        # A window shorter than the default kernel gets a kernel as long as the window.
        kernel_size = message.kernel_size or min(CnnSpec.kernel_size, input_steps)
        if not 1 <= kernel_size <= input_steps:
            check.report(
                f"{field}.kernel_size",
                f"kernel_size must be between 1 and input_steps ({input_steps}), got {kernel_size}",
            )
        return CnnSpec(neural, kernel_size)
    if kind in (ModelKind.SVR_DIRECT, ModelKind.SVR_MIMO):
        kernel, c, epsilon = _resolve_svr(message, field, check)
        return (SvrDirectSpec if kind is ModelKind.SVR_DIRECT else SvrMimoSpec)(kernel, c, epsilon)
    return LinearRegressionSpec()


def resolve_model_specs(
    specs: Sequence[pb.ModelSpec], input_steps: int, field: str = "model_specs"
) -> tuple[list[ResolvedModel], list[Violation]]:
    """Fill in defaults and check every bound of a run's model specs.

    Returns the resolved models, in order, and every problem found at once, each with a
    field path such as `model_specs[2].cnn.kernel_size` and a description naming the
    model id. When there is any violation the list of resolved models is empty.
    `input_steps` is the dataset's window length (the upper bound of CNN kernel sizes).
    """
    violations: list[Violation] = []
    if not 1 <= len(specs) <= MAX_MODELS_PER_RUN:
        violations.append(Violation(field, f"a run trains 1 to {MAX_MODELS_PER_RUN} models, got {len(specs)}"))
    resolved: list[ResolvedModel] = []
    first_index_of: dict[str, int] = {}
    for index, spec in enumerate(specs):
        prefix = f"{field}[{index}]"
        model_id = spec.model_id or f"model-{index + 1}"
        check = _Checker(prefix, model_id, violations)
        if spec.model_id and not MODEL_ID_PATTERN.fullmatch(spec.model_id):
            check.report("model_id", "model_id must match [a-z][a-z0-9-]{0,62}")
        elif model_id in first_index_of:
            how = "" if spec.model_id else f" (the default for position {index + 1})"
            check.report("model_id", f"model_id is already used by {field}[{first_index_of[model_id]}]{how}")
        else:
            first_index_of[model_id] = index
        params = _resolve_params(spec, input_steps, check)
        if params is not None:
            resolved.append(ResolvedModel(model_id, spec.display_name, spec.seed, params))
    return ([] if violations else resolved), violations


def require_model_specs(specs: Sequence[pb.ModelSpec], input_steps: int) -> list[ResolvedModel]:
    """resolve_model_specs, raising InvalidModelSpecs with every violation when there is any."""
    resolved, violations = resolve_model_specs(specs, input_steps)
    if violations:
        raise InvalidModelSpecs(violations)
    return resolved


def _neural_proto(neural: NeuralSpec) -> pb.NeuralParams:
    activation = next(value for value, name in _ACTIVATIONS.items() if name == neural.activation)
    return pb.NeuralParams(
        layers=neural.layers,
        units=neural.units,
        epochs=neural.epochs,
        batch_size=neural.batch_size,
        learning_rate=neural.learning_rate,
        activation=activation,
        early_stopping_patience=neural.early_stopping_patience,
    )


def _svr_proto(svr: SvrSpec) -> pb.SvrParams:
    kernel = next(value for value, name in _SVR_KERNELS.items() if name == svr.kernel)
    return pb.SvrParams(kernel=kernel, c=svr.c, epsilon=svr.epsilon)


def to_proto(model: ResolvedModel) -> pb.ModelSpec:
    """The ModelSpec with every default written out (ModelResult.spec)."""
    spec = pb.ModelSpec(model_id=model.model_id, display_name=model.display_name, seed=model.seed)
    params = model.params
    match params:
        case DenseSpec():
            spec.dense.CopyFrom(pb.DenseParams(neural=_neural_proto(params.neural)))
        case CnnSpec():
            spec.cnn.CopyFrom(pb.CnnParams(neural=_neural_proto(params.neural), kernel_size=params.kernel_size))
        case LstmSpec():
            spec.lstm.CopyFrom(pb.LstmParams(neural=_neural_proto(params.neural)))
        case ArLstmSpec():
            spec.ar_lstm.CopyFrom(pb.ArLstmParams(neural=_neural_proto(params.neural)))
        case SvrDirectSpec():
            spec.svr_direct.CopyFrom(_svr_proto(params))
        case SvrMimoSpec():
            spec.svr_mimo.CopyFrom(_svr_proto(params))
        case LinearRegressionSpec():
            spec.linear_regression.SetInParent()
    return spec
