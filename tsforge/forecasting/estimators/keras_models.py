"""The four Keras networks, their serialisation, and the worker's TensorFlow settings.

Only worker processes import this module (TensorFlow takes seconds to import); the
service process validates specs with `specs.py`, which imports neither.

With a future window (lags and calendar at the output steps, n_future > 0) a network
has a second input, "future_window" (output_steps, n_future): Dense, CNN and LSTM
append it, flattened, to the features their output layer reads; the autoregressive
LSTM gives step k's row to the head that forecasts step k. Without one the networks are
exactly the single-input ones of before, so older artifacts load unchanged.

TensorFlow uses a GPU when one is visible and TensorFlow was installed with CUDA
(`pip install "tensorflow[and-cuda]"` on Linux, in place of tensorflow-cpu); nothing
here needs to change for it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

# Before TensorFlow's first import: keep its C++ start-up chatter out of JSON logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from tsforge.forecasting.estimators.specs import (  # noqa: E402
    ArLstmSpec,
    CnnSpec,
    DenseSpec,
    KerasSpec,
    LstmSpec,
    NeuralSpec,
)

KERAS_FILE_SUFFIX = ".keras"


def configure_runtime(threads: int) -> None:
    """Limit TensorFlow to `threads` intra-op and inter-op threads, once per worker.

    Several workers share a machine, so each keeps its thread pools small. Must run
    before TensorFlow executes its first operation; raises RuntimeError otherwise
    (unless the threads are already set to this value).
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    threading = tf.config.threading
    if (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()) == (
        threads,
        threads,
    ):
        return
    try:
        threading.set_intra_op_parallelism_threads(threads)
        threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError as error:
        raise RuntimeError("configure_runtime must run before TensorFlow executes any operation") from error


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (weights, dropout, batch order) for one model."""
    # ModelSpec.seed is an int64; NumPy seeds must lie in 0 .. 2**32 - 1.
    keras.utils.set_random_seed(seed % 2**32)


def _future_input(output_steps: int, n_future: int) -> keras.KerasTensor | None:
    return keras.Input((output_steps, n_future), name="future_window") if n_future else None


def _output_head(
    inputs: keras.KerasTensor,
    features: keras.KerasTensor,
    output_steps: int,
    n_outputs: int,
    name: str,
    future: keras.KerasTensor | None = None,
) -> keras.Model:
    if future is not None:
        features = layers.Concatenate(name="with_future")([features, layers.Flatten(name="future_flat")(future)])
    flat = layers.Dense(output_steps * n_outputs, name="output")(features)
    outputs = layers.Reshape((output_steps, n_outputs), name="output_window")(flat)
    return keras.Model(inputs if future is None else [inputs, future], outputs, name=name)


def build_dense(
    spec: DenseSpec, input_steps: int, n_inputs: int, output_steps: int, n_outputs: int, n_future: int = 0
) -> keras.Model:
    """Flattened window (and future window) → `layers` Dense(units) → Dense(output_steps *
    n_outputs) → window. The future window also enters the first hidden layer."""
    inputs = keras.Input((input_steps, n_inputs), name="input_window")
    future = _future_input(output_steps, n_future)
    x = layers.Flatten()(inputs)
    if future is not None:
        x = layers.Concatenate(name="inputs_and_future")([x, layers.Flatten(name="future_in")(future)])
    for i in range(spec.neural.layers):
        x = layers.Dense(spec.neural.units, activation=spec.neural.activation, name=f"dense_{i}")(x)
    return _output_head(inputs, x, output_steps, n_outputs, "dense", future)


def build_cnn(
    spec: CnnSpec, input_steps: int, n_inputs: int, output_steps: int, n_outputs: int, n_future: int = 0
) -> keras.Model:
    """`layers` causal Conv1D(units filters, kernel_size) → flatten → Dense → window.

    Causal padding keeps each position's features a function of that step and the
    steps before it, the natural reading of a time axis.
    """
    inputs = keras.Input((input_steps, n_inputs), name="input_window")
    x = inputs
    for i in range(spec.neural.layers):
        x = layers.Conv1D(
            spec.neural.units, spec.kernel_size, padding="causal", activation=spec.neural.activation, name=f"conv_{i}"
        )(x)
    x = layers.Flatten()(x)
    return _output_head(inputs, x, output_steps, n_outputs, "cnn", _future_input(output_steps, n_future))


def build_lstm(
    spec: LstmSpec, input_steps: int, n_inputs: int, output_steps: int, n_outputs: int, n_future: int = 0
) -> keras.Model:
    """Stacked LSTM over the input window → Dense(output_steps * n_outputs) → window at once."""
    inputs = keras.Input((input_steps, n_inputs), name="input_window")
    x = inputs
    for i in range(spec.neural.layers):
        x = layers.LSTM(
            spec.neural.units,
            activation=spec.neural.activation,
            return_sequences=i < spec.neural.layers - 1,
            name=f"lstm_{i}",
        )(x)
    return _output_head(inputs, x, output_steps, n_outputs, "lstm", _future_input(output_steps, n_future))


@keras.saving.register_keras_serializable(package="tsforge")
class AutoregressiveLstm(keras.Model):
    """An LSTM that forecasts one step at a time and feeds each forecast back in.

    The encoder (stacked LSTMs) reads the input window; its last output gives the
    first forecast step through `head`, and its final states start the decoder (one
    LSTMCell per layer). For each further step the decoder's input is the model's own
    forecast of the previous step — never the true value, in training as in
    prediction, so the model is trained the way it is used. Step k therefore depends
    only on the input window and steps 1..k-1, and the weights do not depend on
    output_steps (from 2 on): the same weights forecast any horizon. With a future
    window, the head reads step k's row of it beside the decoder's state: inputs are
    then [input window, future window].
    """

    def __init__(
        self, units: int, layers: int, activation: str, output_steps: int, n_outputs: int, n_future: int = 0, **kwargs
    ):
        super().__init__(**kwargs)
        self.units = units
        self.layer_count = layers
        self.activation = activation
        self.output_steps = output_steps
        self.n_outputs = n_outputs
        self.n_future = n_future
        self.encoder = [
            keras.layers.LSTM(
                units, activation=activation, return_sequences=i < layers - 1, return_state=True, name=f"encoder_{i}"
            )
            for i in range(layers)
        ]
        # With a single output step there is nothing to feed back: no decoder weights
        # that would never receive a gradient.
        self.decoder = (
            [keras.layers.LSTMCell(units, activation=activation, name=f"decoder_{i}") for i in range(layers)]
            if output_steps > 1
            else []
        )
        self.head = keras.layers.Dense(n_outputs, name="head")

    def build(self, input_shape):
        # Built explicitly, from shapes alone, so a loaded file gets the same variables.
        if self.n_future:
            input_shape = input_shape[0]
        batch, steps, _ = input_shape
        shape = tuple(input_shape)
        for lstm in self.encoder:
            lstm.build(shape)
            shape = (batch, steps, self.units)
        cell_input = self.n_outputs
        for cell in self.decoder:
            cell.build((batch, cell_input))
            cell_input = self.units
        self.head.build((batch, self.units + self.n_future))
        self.built = True

    def call(self, inputs, training=None):
        future = None
        if self.n_future:
            inputs, future = inputs

        def head(features, step):
            if future is not None:
                features = keras.ops.concatenate([features, future[:, step, :]], axis=-1)
            return self.head(features)

        sequence = inputs
        states = []
        for lstm in self.encoder:
            sequence, h, c = lstm(sequence, training=training)
            states.append([h, c])
        forecast = head(sequence, 0)
        forecasts = [forecast]
        # A Python loop, unrolled once per traced graph: output_steps is fixed per model.
        for step in range(1, self.output_steps):
            x = forecast
            for i, cell in enumerate(self.decoder):
                x, states[i] = cell(x, states[i], training=training)
            forecast = head(x, step)
            forecasts.append(forecast)
        return keras.ops.stack(forecasts, axis=1)

    def get_config(self):
        return {
            "name": self.name,
            "units": self.units,
            "layers": self.layer_count,
            "activation": self.activation,
            "output_steps": self.output_steps,
            "n_outputs": self.n_outputs,
            "n_future": self.n_future,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def build_ar_lstm(
    spec: ArLstmSpec, input_steps: int, n_inputs: int, output_steps: int, n_outputs: int, n_future: int = 0
) -> keras.Model:
    """The autoregressive LSTM (see AutoregressiveLstm), built for this window."""
    model = AutoregressiveLstm(
        spec.neural.units,
        spec.neural.layers,
        spec.neural.activation,
        output_steps,
        n_outputs,
        n_future,
        name="ar_lstm",
    )
    shape = (None, input_steps, n_inputs)
    model.build([shape, (None, output_steps, n_future)] if n_future else shape)
    return model


_BUILDERS: dict[type, Callable[..., keras.Model]] = {
    DenseSpec: build_dense,
    CnnSpec: build_cnn,
    LstmSpec: build_lstm,
    ArLstmSpec: build_ar_lstm,
}


def build_model(
    spec: KerasSpec, input_steps: int, n_inputs: int, output_steps: int, n_outputs: int, n_future: int = 0
) -> keras.Model:
    """The network for `spec`, compiled: Adam(learning_rate), MSE loss, RMSE metric.

    Loss and metric are objects, not strings, so every saved format deserialises them.
    """
    model = _BUILDERS[type(spec)](spec, input_steps, n_inputs, output_steps, n_outputs, n_future)
    compile_model(model, spec.neural)
    return model


def compile_model(model: keras.Model, neural: NeuralSpec) -> None:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=neural.learning_rate),
        loss=keras.losses.MeanSquaredError(),
        metrics=[keras.metrics.RootMeanSquaredError(name="rmse")],
    )


def output_window(model: keras.Model) -> tuple[int, int]:
    """(output_steps, n_outputs) of a built model."""
    if isinstance(model, AutoregressiveLstm):
        return model.output_steps, model.n_outputs
    _, steps, features = model.output_shape
    return steps, features


def future_width(model: keras.Model) -> int:
    """n_future of a built model: 0 for a single-input network."""
    if isinstance(model, AutoregressiveLstm):
        return model.n_future
    inputs = model.inputs
    return int(inputs[1].shape[-1]) if len(inputs) > 1 else 0


def model_inputs(x: np.ndarray, future: np.ndarray | None, n_future: int):
    """What the network is called with: x, or [x, future] when it has a future input.
    Raises ValueError when future is missing or has the wrong width."""
    x = np.asarray(x, dtype=np.float32)
    if not n_future:
        return x
    if future is None or np.shape(future)[2:] != (n_future,) or len(future) != len(x):
        got = None if future is None else np.shape(future)
        raise ValueError(f"this model needs future windows (n, output_steps, {n_future}), got {got}")
    return [x, np.asarray(future, dtype=np.float32)]


def to_bytes(model: keras.Model) -> bytes:
    """The model as the bytes of a native `.keras` file."""
    with tempfile.TemporaryDirectory(prefix="tsforge-keras-") as directory:
        path = Path(directory) / f"model{KERAS_FILE_SUFFIX}"
        model.save(path)
        return path.read_bytes()


def from_bytes(artifact: bytes) -> keras.Model:
    """A model from `.keras` file bytes (uncompiled: it is loaded to predict)."""
    with tempfile.TemporaryDirectory(prefix="tsforge-keras-") as directory:
        path = Path(directory) / f"model{KERAS_FILE_SUFFIX}"
        path.write_bytes(artifact)
        return keras.saving.load_model(path, compile=False)


class KerasPredictor:
    """Predicts output windows with a Keras model."""

    PREDICT_BATCH_SIZE = 1024

    def __init__(self, model: keras.Model):
        self.model = model
        self.output_steps, self.n_outputs = output_window(model)
        self.n_future = future_width(model)

    def inputs(self, x: np.ndarray, future: np.ndarray | None = None):
        """What to call the network with (see model_inputs)."""
        return model_inputs(x, future, self.n_future)

    def predict(self, x: np.ndarray, future: np.ndarray | None = None, history=None) -> np.ndarray:
        """Output windows (n, output_steps, n_outputs), float32, for input windows x and
        (when the model has a future input) future windows."""
        inputs = self.inputs(x, future)
        if len(x) == 0:
            return np.zeros((0, self.output_steps, self.n_outputs), dtype=np.float32)
        y = self.model.predict(inputs, batch_size=self.PREDICT_BATCH_SIZE, verbose=0)
        return np.asarray(y, dtype=np.float32)
