"""Model specifications: proto ModelSpecs resolved into validated, defaulted dataclasses.

The gRPC service process imports this module to validate CreateRun requests, so it must
never import TensorFlow (about 7 s), scikit-learn, LightGBM or statsforecast; only
worker processes train.

Neural defaults are sized for a CPU: two Dense or Conv1D layers of 64 (one LSTM layer of
32), which train a few months of half-hourly data (one day in, six hours out) in well
under two minutes per model on two cores. The seed system's 3 x 512 is still available
by asking for it (layers=3, units=512).
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
ESTIMATORS_RANGE = (1, 10000)
LEAVES_RANGE = (2, 4096)
STOPPING_ROUNDS_RANGE = (0, 10000)
CHILD_SAMPLES_RANGE = (1, 100000)
HISTORY_STEPS_RANGE = (2, 100000)
FIT_STEPS_RANGE = (2, 1000000)
MAX_SEASON_HOURS = 24 * 366
TIME_LIMIT_RANGE = (1.0, 86400.0)


class ModelKind(enum.StrEnum):
    """The model types; each value is its field name in ModelSpec's `params` oneof."""

    DENSE = "dense"
    CNN = "cnn"
    LSTM = "lstm"
    AR_LSTM = "ar_lstm"
    SVR_DIRECT = "svr_direct"
    SVR_MIMO = "svr_mimo"
    LINEAR_REGRESSION = "linear_regression"
    LIGHTGBM = "lightgbm"
    MSTL = "mstl"
    AUTO_ETS = "auto_ets"
    AUTO_ARIMA = "auto_arima"
    SEASONAL_NAIVE = "seasonal_naive"
    ENSEMBLE = "ensemble"

    @property
    def proto(self) -> int:
        """The tsforge.common.v1.ModelType value."""
        return common_pb2.ModelType.Value(f"MODEL_TYPE_{self.name}")

    @property
    def is_keras(self) -> bool:
        return self in (ModelKind.DENSE, ModelKind.CNN, ModelKind.LSTM, ModelKind.AR_LSTM)

    @property
    def is_statistical(self) -> bool:
        """statsforecast models: they forecast from the output series' own past."""
        return self in (ModelKind.MSTL, ModelKind.AUTO_ETS, ModelKind.AUTO_ARIMA, ModelKind.SEASONAL_NAIVE)

    @property
    def is_sklearn(self) -> bool:
        return self in (ModelKind.SVR_DIRECT, ModelKind.SVR_MIMO, ModelKind.LINEAR_REGRESSION)


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
    """Network and training settings shared by the Keras models (CPU-sized defaults)."""

    layers: int = 2
    units: int = 64
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


# A recurrent layer costs input_steps sequential steps per batch: one smaller layer.
RECURRENT_NEURAL = NeuralSpec(layers=1, units=32)


@dataclass(frozen=True)
class LstmSpec:
    kind: ClassVar[ModelKind] = ModelKind.LSTM
    neural: NeuralSpec = RECURRENT_NEURAL


@dataclass(frozen=True)
class ArLstmSpec:
    kind: ClassVar[ModelKind] = ModelKind.AR_LSTM
    neural: NeuralSpec = RECURRENT_NEURAL


@dataclass(frozen=True)
class SvrSpec:
    """SVR settings shared by both strategies; inputs and the target are always
    standardised, so epsilon is in standard deviations of the target."""

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


@dataclass(frozen=True)
class LightGbmSpec:
    """LightGBM (the seed system's later default: 100 estimators, learning rate 0.1).

    strategy "direct": one booster per output feature and step; "step_feature": one per
    output feature, the step index an input. early_stopping_rounds 0 turns stopping off.
    """

    kind: ClassVar[ModelKind] = ModelKind.LIGHTGBM
    n_estimators: int = 100
    learning_rate: float = 0.1
    num_leaves: int = 31
    strategy: str = "direct"
    early_stopping_rounds: int = 10
    min_child_samples: int = 20


@dataclass(frozen=True)
class StatisticalSpec:
    """statsforecast settings; empty seasons and zero steps are decided from the data
    when the model is trained (see tsforge.forecasting.estimators.statistical)."""

    season_hours: tuple[float, ...] = ()
    history_steps: int = 0
    fit_steps: int = 0


@dataclass(frozen=True)
class MstlSpec(StatisticalSpec):
    kind: ClassVar[ModelKind] = ModelKind.MSTL


@dataclass(frozen=True)
class AutoEtsSpec(StatisticalSpec):
    kind: ClassVar[ModelKind] = ModelKind.AUTO_ETS


@dataclass(frozen=True)
class AutoArimaSpec(StatisticalSpec):
    kind: ClassVar[ModelKind] = ModelKind.AUTO_ARIMA


@dataclass(frozen=True)
class SeasonalNaiveSpec(StatisticalSpec):
    kind: ClassVar[ModelKind] = ModelKind.SEASONAL_NAIVE


@dataclass(frozen=True)
class EnsembleSpec:
    """The model_ids it averages (resolved: never empty)."""

    kind: ClassVar[ModelKind] = ModelKind.ENSEMBLE
    members: tuple[str, ...] = ()


KerasSpec = DenseSpec | CnnSpec | LstmSpec | ArLstmSpec
StatisticalModelSpec = MstlSpec | AutoEtsSpec | AutoArimaSpec | SeasonalNaiveSpec
ModelParams = (
    KerasSpec | SvrDirectSpec | SvrMimoSpec | LinearRegressionSpec | LightGbmSpec | StatisticalModelSpec | EnsembleSpec
)
_STATISTICAL: dict[ModelKind, type] = {
    ModelKind.MSTL: MstlSpec,
    ModelKind.AUTO_ETS: AutoEtsSpec,
    ModelKind.AUTO_ARIMA: AutoArimaSpec,
    ModelKind.SEASONAL_NAIVE: SeasonalNaiveSpec,
}
_LIGHTGBM_STRATEGIES: dict[int, str] = {
    pb.LIGHT_GBM_STRATEGY_DIRECT: "direct",
    pb.LIGHT_GBM_STRATEGY_STEP_FEATURE: "step_feature",
}


@dataclass(frozen=True)
class ResolvedModel:
    """One model of a run, every default filled in and every bound checked."""

    model_id: str
    display_name: str
    seed: int
    params: ModelParams
    # Wall-time budget in seconds (ModelSpec.time_limit), or None.
    time_limit: float | None = None

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


def _resolve_neural(params: pb.NeuralParams, field: str, check: _Checker, defaults: NeuralSpec) -> NeuralSpec:
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


def _resolve_lightgbm(params: pb.LightGbmParams, field: str, check: _Checker) -> LightGbmSpec:
    defaults = LightGbmSpec()
    n_estimators = check.int_in(f"{field}.n_estimators", params.n_estimators, defaults.n_estimators, ESTIMATORS_RANGE)
    learning_rate = params.learning_rate or defaults.learning_rate
    if not 0 < learning_rate <= 1:
        check.report(f"{field}.learning_rate", f"learning_rate must be > 0 and <= 1, got {learning_rate}")
    num_leaves = check.int_in(f"{field}.num_leaves", params.num_leaves, defaults.num_leaves, LEAVES_RANGE)
    strategy = defaults.strategy
    if params.strategy != pb.LIGHT_GBM_STRATEGY_UNSPECIFIED:
        if params.strategy in _LIGHTGBM_STRATEGIES:
            strategy = _LIGHTGBM_STRATEGIES[params.strategy]
        else:
            check.report(f"{field}.strategy", f"unknown LightGBM strategy {params.strategy}")
    rounds = defaults.early_stopping_rounds
    if params.HasField("early_stopping_rounds"):
        rounds = params.early_stopping_rounds
        low, high = STOPPING_ROUNDS_RANGE
        if not low <= rounds <= high:
            problem = f"early_stopping_rounds must be between {low} and {high}, got {rounds}"
            check.report(f"{field}.early_stopping_rounds", problem)
    children = check.int_in(
        f"{field}.min_child_samples", params.min_child_samples, defaults.min_child_samples, CHILD_SAMPLES_RANGE
    )
    return LightGbmSpec(n_estimators, learning_rate, num_leaves, strategy, rounds, children)


def _resolve_statistical(kind: ModelKind, params: pb.StatisticalParams, field: str, check: _Checker):
    seasons = tuple(float(h) for h in params.season_hours)
    for i, hours in enumerate(seasons):
        if not (math.isfinite(hours) and 0 < hours <= MAX_SEASON_HOURS):
            check.report(f"{field}.season_hours[{i}]", f"a season must be > 0 and at most a year of hours, got {hours}")
    if kind in (ModelKind.AUTO_ETS, ModelKind.AUTO_ARIMA, ModelKind.SEASONAL_NAIVE) and len(seasons) > 1:
        check.report(f"{field}.season_hours", f"{kind.value} takes one season, got {len(seasons)}")
    history = params.history_steps
    if history and not HISTORY_STEPS_RANGE[0] <= history <= HISTORY_STEPS_RANGE[1]:
        check.report(f"{field}.history_steps", f"history_steps must be between 2 and 100000, got {history}")
    fit = params.fit_steps
    if fit and not FIT_STEPS_RANGE[0] <= fit <= FIT_STEPS_RANGE[1]:
        check.report(f"{field}.fit_steps", f"fit_steps must be between 2 and 1000000, got {fit}")
    return _STATISTICAL[kind](seasons, history, fit)


def _resolve_params(
    spec: pb.ModelSpec, input_steps: int, check: _Checker, earlier: dict[str, ModelKind]
) -> ModelParams | None:
    field = spec.WhichOneof("params")
    if field is None:
        check.report("params", "a model type is required: one of " + ", ".join(kind.value for kind in ModelKind))
        return None
    kind = ModelKind(field)
    message = getattr(spec, field)
    if kind in (ModelKind.DENSE, ModelKind.LSTM, ModelKind.AR_LSTM):
        defaults = NeuralSpec() if kind is ModelKind.DENSE else RECURRENT_NEURAL
        neural = _resolve_neural(message.neural, f"{field}.neural", check, defaults)
        recurrent: dict[ModelKind, type[DenseSpec | LstmSpec | ArLstmSpec]] = {
            ModelKind.DENSE: DenseSpec,
            ModelKind.LSTM: LstmSpec,
            ModelKind.AR_LSTM: ArLstmSpec,
        }
        return recurrent[kind](neural)
    if kind is ModelKind.LIGHTGBM:
        return _resolve_lightgbm(message, field, check)
    if kind.is_statistical:
        return _resolve_statistical(kind, message, field, check)
    if kind is ModelKind.ENSEMBLE:
        members = tuple(message.members) or tuple(i for i, k in earlier.items() if k is not ModelKind.ENSEMBLE)
        for i, member in enumerate(message.members):
            if member not in earlier:
                check.report(f"{field}.members[{i}]", f"{member!r} is not a model listed before the ensemble")
            elif earlier[member] is ModelKind.ENSEMBLE:
                check.report(f"{field}.members[{i}]", f"{member!r} is an ensemble itself")
        if len(set(members)) != len(members):
            check.report(f"{field}.members", "a member is named twice")
        if not members:
            check.report(f"{field}.members", "an ensemble needs at least one model listed before it")
        return EnsembleSpec(members)
    if kind is ModelKind.CNN:
        neural = _resolve_neural(message.neural, f"{field}.neural", check, NeuralSpec())
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
    earlier: dict[str, ModelKind] = {}
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
        params = _resolve_params(spec, input_steps, check, earlier)
        time_limit = None
        if spec.HasField("time_limit"):
            time_limit = spec.time_limit.ToTimedelta().total_seconds()
            if not TIME_LIMIT_RANGE[0] <= time_limit <= TIME_LIMIT_RANGE[1]:
                check.report("time_limit", f"time_limit must be between 1 s and 24 h, got {time_limit:g} s")
        if params is not None:
            resolved.append(ResolvedModel(model_id, spec.display_name, spec.seed, params, time_limit))
            earlier.setdefault(model_id, params.kind)
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
    if model.time_limit is not None:
        spec.time_limit.FromNanoseconds(round(model.time_limit * 1e9))
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
        case LightGbmSpec():
            strategy = next(value for value, name in _LIGHTGBM_STRATEGIES.items() if name == params.strategy)
            spec.lightgbm.CopyFrom(
                pb.LightGbmParams(
                    n_estimators=params.n_estimators,
                    learning_rate=params.learning_rate,
                    num_leaves=params.num_leaves,
                    strategy=strategy,
                    early_stopping_rounds=params.early_stopping_rounds,
                    min_child_samples=params.min_child_samples,
                )
            )
        case MstlSpec() | AutoEtsSpec() | AutoArimaSpec() | SeasonalNaiveSpec():
            getattr(spec, params.kind.value).CopyFrom(
                pb.StatisticalParams(
                    season_hours=list(params.season_hours),
                    history_steps=params.history_steps,
                    fit_steps=params.fit_steps,
                )
            )
        case EnsembleSpec():
            spec.ensemble.CopyFrom(pb.EnsembleParams(members=list(params.members)))
    return spec
