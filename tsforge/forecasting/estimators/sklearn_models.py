"""The scikit-learn models: SVR direct, SVR MIMO and linear regression on flattened windows.

Every estimator here maps a flattened input window (n, input_steps * n_inputs), followed
by the flattened future window (n, output_steps * n_future; no columns without lags or
future calendar), to a flattened output window (n, output_steps * n_outputs),
row-major: column `step * n_outputs + feature`. WindowRegressor wraps one with the
window shapes, so the pickled artifact predicts windows on its own. All of them are
deterministic: the same data gives the same model (libsvm and least squares use no
randomness here).

SVRs standardise their inputs and their target (TransformedTargetRegressor): epsilon
and C then mean the same on any data, and a target squeezed into a narrow band (a 0-1
min-max range whose test values sit in a corner of it) is not biased by a tube that is
a tenth of the whole range wide.

Artifacts are joblib pickles: load only the ones this platform wrote.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import joblib
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR

from tsforge.forecasting.estimators.progress import TrainingCancelled
from tsforge.forecasting.estimators.specs import LinearRegressionSpec, SvrDirectSpec, SvrMimoSpec, SvrSpec

ShouldStop = Callable[[], bool]


def _never() -> bool:
    return False


def standardised_svr(spec: SvrSpec) -> TransformedTargetRegressor:
    """StandardScaler → SVR with the spec's kernel, C and epsilon, on a standardised target.

    The polynomial kernel gets coef0 = 1, i.e. (gamma <x, x'> + 1) ** 3: scikit-learn's
    coef0 = 0 keeps only the cubic terms, which on standardised inputs cannot express
    even a linear relation.
    """
    coef0 = 1.0 if spec.kernel == "poly" else 0.0
    pipeline = make_pipeline(StandardScaler(), SVR(kernel=spec.kernel, C=spec.c, epsilon=spec.epsilon, coef0=coef0))
    return TransformedTargetRegressor(regressor=pipeline, transformer=StandardScaler())


def _check(should_stop: ShouldStop, fitted: int, total: int) -> None:
    if should_stop():
        raise TrainingCancelled(f"cancelled after {fitted} of {total} sub-models")


class DirectSvr(RegressorMixin, BaseEstimator):
    """The direct strategy: one standardised SVR per output column (step × feature).

    Each regressor sees the whole flattened input window and predicts one value; the
    forecast steps are independent of one another.
    """

    def __init__(self, svr: Pipeline | TransformedTargetRegressor):
        self.svr = svr

    def fit(self, x: np.ndarray, y: np.ndarray, should_stop: ShouldStop = _never) -> DirectSvr:
        """Fit one SVR per column of y, checking should_stop before each (raises TrainingCancelled)."""
        self.estimators_ = []
        for column in range(y.shape[1]):
            _check(should_stop, column, y.shape[1])
            self.estimators_.append(clone(self.svr).fit(x, y[:, column]))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([estimator.predict(x) for estimator in self.estimators_])


class StepIndexedSvr(RegressorMixin, BaseEstimator):
    """The MIMO strategy with scikit-learn: ONE standardised SVR per output feature for all steps.

    scikit-learn's SVR has a single output and no multi-output variant, so a joint
    model of all forecast steps is built the way multi-task kernel methods are: the
    forecast step becomes an input. Each training window contributes output_steps
    rows, (flattened input window, step index) → value at that step, and one SVR
    learns them all. Its support vectors and dual coefficients are shared by every
    step, the kernel relates nearby steps to each other, and the whole horizon comes
    from one model — unlike DirectSvr, where each step is a separate regressor, or a
    chain of per-step regressors (RegressorChain), which would still be output_steps
    models.

    The price: an SVR is fitted on n * output_steps rows instead of n, and SVR
    training grows faster than linearly in rows, so long horizons on large datasets
    are much slower than DirectSvr.
    """

    def __init__(self, svr: Pipeline | TransformedTargetRegressor, output_steps: int):
        self.svr = svr
        self.output_steps = output_steps

    def _with_step(self, x: np.ndarray) -> np.ndarray:
        # Rows ordered sample-major: row i * output_steps + k is window i at step k.
        steps = np.tile(np.arange(self.output_steps, dtype=x.dtype), len(x))
        return np.column_stack([np.repeat(x, self.output_steps, axis=0), steps])

    def fit(self, x: np.ndarray, y: np.ndarray, should_stop: ShouldStop = _never) -> StepIndexedSvr:
        """Fit one SVR per output feature, checking should_stop before each (raises TrainingCancelled)."""
        n_outputs = y.shape[1] // self.output_steps
        by_feature = y.reshape(len(y), self.output_steps, n_outputs)
        rows = self._with_step(x)
        self.estimators_ = []
        for feature in range(n_outputs):
            _check(should_stop, feature, n_outputs)
            self.estimators_.append(clone(self.svr).fit(rows, by_feature[:, :, feature].reshape(-1)))
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        rows = self._with_step(x)
        per_feature = [estimator.predict(rows).reshape(len(x), self.output_steps) for estimator in self.estimators_]
        return np.stack(per_feature, axis=2).reshape(len(x), -1)


def flatten_windows(x: np.ndarray, future: np.ndarray | None) -> np.ndarray:
    """(n, input_steps * n_inputs + output_steps * n_future) float64: x then future, each
    flattened row-major."""
    parts = [np.asarray(x).reshape(len(x), -1)]
    if future is not None and future.size:
        parts.append(np.asarray(future).reshape(len(future), -1))
    return np.concatenate(parts, axis=1).astype(np.float64)


class WindowRegressor:
    """A fitted flattened-window estimator with the window shapes it was fitted for."""

    def __init__(
        self,
        estimator: BaseEstimator,
        input_steps: int,
        n_inputs: int,
        output_steps: int,
        n_outputs: int,
        n_future: int = 0,
    ):
        self.estimator = estimator
        self.input_steps = input_steps
        self.n_inputs = n_inputs
        self.output_steps = output_steps
        self.n_outputs = n_outputs
        self.n_future = n_future

    def predict(self, x: np.ndarray, future: np.ndarray | None = None, history=None) -> np.ndarray:
        """Output windows (n, output_steps, n_outputs), float32, for input windows x and
        future windows (n, output_steps, n_future).

        Raises ValueError when x or future is not shaped as in training.
        """
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[1:] != (self.input_steps, self.n_inputs):
            raise ValueError(f"expected input windows (n, {self.input_steps}, {self.n_inputs}), got {x.shape}")
        n_future = getattr(self, "n_future", 0)  # artifacts written before future windows existed
        if n_future:
            if future is None or np.shape(future) != (len(x), self.output_steps, n_future):
                got = None if future is None else np.shape(future)
                raise ValueError(f"expected future windows (n, {self.output_steps}, {n_future}), got {got}")
        else:
            future = None
        if len(x) == 0:
            return np.zeros((0, self.output_steps, self.n_outputs), dtype=np.float32)
        y = self.estimator.predict(flatten_windows(x, future))
        return np.asarray(y, dtype=np.float32).reshape(len(x), self.output_steps, self.n_outputs)


SklearnSpec = SvrDirectSpec | SvrMimoSpec | LinearRegressionSpec


def fit_sklearn(
    spec: SklearnSpec,
    x: np.ndarray,
    y: np.ndarray,
    should_stop: ShouldStop = _never,
    future: np.ndarray | None = None,
) -> WindowRegressor:
    """Fit the estimator of `spec` on windows x (n, I, n_in) and future (n, O, n_f) →
    y (n, O, n_out).

    should_stop is checked before every sub-model (each SVR); raises TrainingCancelled.
    """
    n, input_steps, n_inputs = x.shape
    _, output_steps, n_outputs = y.shape
    n_future = 0 if future is None else future.shape[2]
    # float64 as libsvm and LAPACK use it, so nothing is converted twice.
    flat_x = flatten_windows(x, future)
    flat_y = y.reshape(n, -1).astype(np.float64)
    match spec:
        case SvrDirectSpec():
            estimator = DirectSvr(standardised_svr(spec)).fit(flat_x, flat_y, should_stop)
        case SvrMimoSpec():
            estimator = StepIndexedSvr(standardised_svr(spec), output_steps).fit(flat_x, flat_y, should_stop)
        case LinearRegressionSpec():
            _check(should_stop, 0, 1)
            estimator = LinearRegression().fit(flat_x, flat_y)
        case _:
            raise TypeError(f"not a scikit-learn model spec: {spec!r}")
    return WindowRegressor(estimator, input_steps, n_inputs, output_steps, n_outputs, n_future)


def to_bytes(model: WindowRegressor) -> bytes:
    """The model as joblib bytes."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def load_joblib(artifact: bytes):
    """Whatever joblib bytes hold (a pickle: trusted artifacts only)."""
    return joblib.load(io.BytesIO(artifact))


def checked(model) -> WindowRegressor:
    """`model` if it is a WindowRegressor; raises ValueError otherwise."""
    if not isinstance(model, WindowRegressor):
        raise ValueError(f"not a tsforge scikit-learn artifact: {type(model).__name__}")
    return model


def from_bytes(artifact: bytes) -> WindowRegressor:
    """A model from joblib bytes written by to_bytes (a pickle: trusted artifacts only)."""
    return checked(load_joblib(artifact))


def plain_estimator(model: WindowRegressor) -> tuple[str, object]:
    """(layout, object) of a fitted model as scikit-learn objects only, for bundles that
    load without tsforge: "flattened" (one estimator on flattened windows: linear
    regression, or direct SVRs as a MultiOutputRegressor), or "step-indexed" (SVR MIMO:
    a list of one estimator per output feature, each predicting rows of the flattened
    windows with the step index appended, sample-major)."""
    from sklearn.multioutput import MultiOutputRegressor

    estimator = model.estimator
    if isinstance(estimator, DirectSvr):
        plain = MultiOutputRegressor(clone(estimator.svr))
        plain.estimators_ = list(estimator.estimators_)
        plain.n_features_in_ = estimator.estimators_[0].n_features_in_
        return "flattened", plain
    if isinstance(estimator, StepIndexedSvr):
        return "step-indexed", list(estimator.estimators_)
    return "flattened", estimator
