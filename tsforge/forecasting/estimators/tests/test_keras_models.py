"""Dense, CNN, LSTM and AR-LSTM: training, progress, early stopping, cancel, autoregression."""

from __future__ import annotations

import numpy as np
import pytest

from tsforge.forecasting.estimators.progress import NullReporter
from tsforge.forecasting.estimators.specs import DenseSpec, ModelKind, NeuralSpec, ResolvedModel
from tsforge.forecasting.estimators.tests.tiny import (
    INPUT_STEPS,
    N_INPUTS,
    N_OUTPUTS,
    OUTPUT_STEPS,
    TINY_NEURAL,
    RecordingReporter,
    tiny_windows,
)
from tsforge.forecasting.estimators.trainer import (
    ArtifactFormat,
    TrainingCancelled,
    TrainingData,
    load_model,
    train_model,
)

pytestmark = [
    pytest.mark.usefixtures("keras_runtime"),
    # TensorFlow 2.21 variables meet NumPy 2.4's copy keyword inside Keras's saving.
    pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"),
]

KERAS_KINDS = [ModelKind.DENSE, ModelKind.CNN, ModelKind.LSTM, ModelKind.AR_LSTM]


@pytest.mark.parametrize("kind", KERAS_KINDS, ids=str)
def test_trains_predicts_windows_and_reports_every_epoch(trained, tiny_data, kind):
    model, reporter = trained[kind]

    predicted = model.predict(tiny_data.x_val)

    assert predicted.shape == (16, OUTPUT_STEPS, N_OUTPUTS) and predicted.dtype == np.float32
    assert np.isfinite(predicted).all()
    assert model.artifact_format == ArtifactFormat.KERAS == "keras"
    assert [(m.epoch, total) for m, total in reporter.epochs] == [(1, 2), (2, 2)]
    assert model.history == [m for m, _ in reporter.epochs]
    for epoch in model.history:
        assert epoch.val_loss is not None and epoch.val_rmse is not None and epoch.duration_seconds > 0
        assert epoch.rmse == pytest.approx(epoch.loss**0.5, rel=0.2)
    assert 1 <= model.best_epoch <= 2
    # Batch progress is throttled to about once a second: 2 epochs × 4 batches
    # train in well under a second each, so only the first batch gets through.
    assert reporter.batches[0] == (1, 1, 4, pytest.approx(reporter.batches[0][3]))
    assert len(reporter.batches) < 8


@pytest.mark.parametrize("kind", KERAS_KINDS, ids=str)
def test_artifact_round_trip_reproduces_predictions(trained, tiny_data, kind):
    model, _ = trained[kind]
    loaded = load_model(model.artifact, "keras")
    np.testing.assert_allclose(loaded.predict(tiny_data.x_val), model.predict(tiny_data.x_val), rtol=1e-5, atol=1e-6)


def test_same_seed_gives_the_same_model_and_another_seed_does_not(tiny_data):
    def predictions(seed: int) -> np.ndarray:
        model = train_model(ResolvedModel("d", "", seed, DenseSpec(TINY_NEURAL)), tiny_data, NullReporter())
        return model.predict(tiny_data.x_val)

    first = predictions(3)
    np.testing.assert_allclose(predictions(3), first, rtol=1e-6, atol=1e-7)
    assert not np.allclose(predictions(4), first)


def test_cancel_after_the_first_batch_stops_inside_the_first_epoch(tiny_data):
    reporter = RecordingReporter(stop_after=0)

    with pytest.raises(TrainingCancelled, match="epoch 1 after batch 1"):
        train_model(ResolvedModel("d", "", 0, DenseSpec(TINY_NEURAL)), tiny_data, reporter)

    assert reporter.stop_checks == 1
    assert reporter.epochs == []


def test_early_stopping_keeps_the_best_epoch(tiny_data):
    # Validation targets move away as training fits the training targets, so the
    # first epoch is the best and patience 1 stops after the second.
    data = TrainingData(tiny_data.x_train, tiny_data.y_train, tiny_data.x_train, -tiny_data.y_train - 1)
    neural = NeuralSpec(layers=1, units=8, epochs=20, batch_size=16, learning_rate=0.01, early_stopping_patience=1)

    model = train_model(ResolvedModel("d", "", 0, DenseSpec(neural)), data, NullReporter())

    val_losses = [epoch.val_loss for epoch in model.history]
    assert len(model.history) < 20
    assert model.best_epoch == 1 + int(np.argmin(val_losses))
    assert model.best_epoch < len(model.history)
    kept = np.mean((model.predict(data.x_val) - data.y_val) ** 2)
    assert kept == pytest.approx(val_losses[model.best_epoch - 1], rel=1e-4)


def test_without_validation_every_epoch_runs_and_the_last_is_kept(tiny_data):
    data = TrainingData(tiny_data.x_train, tiny_data.y_train)
    reporter = RecordingReporter()
    neural = NeuralSpec(layers=1, units=8, epochs=3, batch_size=32, early_stopping_patience=0)

    model = train_model(ResolvedModel("d", "", 0, DenseSpec(neural)), data, reporter)

    assert [(e.epoch, e.val_loss, e.val_rmse) for e in model.history] == [
        (1, None, None),
        (2, None, None),
        (3, None, None),
    ]
    assert model.best_epoch == 3
    assert model.predict(data.x_train[:0]).shape == (0, OUTPUT_STEPS, N_OUTPUTS)


def test_a_kernel_longer_than_the_window_is_refused(tiny_data):
    from tsforge.forecasting.estimators.specs import CnnSpec

    with pytest.raises(ValueError, match="kernel_size 9 exceeds input_steps 8"):
        train_model(ResolvedModel("c", "", 0, CnnSpec(TINY_NEURAL, kernel_size=9)), tiny_data, NullReporter())


class TestAutoregressiveLstm:
    """The AR-LSTM forecasts step by step from its own previous forecast."""

    @staticmethod
    def build(output_steps: int, seed: int = 5):
        from tsforge.forecasting.estimators.keras_models import AutoregressiveLstm, seed_everything

        seed_everything(seed)
        model = AutoregressiveLstm(units=8, layers=2, activation="tanh", output_steps=output_steps, n_outputs=N_OUTPUTS)
        model.build((None, INPUT_STEPS, N_INPUTS))
        return model

    def test_a_longer_horizon_with_the_same_weights_extends_the_same_forecast(self, trained, tiny_data):
        from tsforge.forecasting.estimators.keras_models import AutoregressiveLstm

        three = trained[ModelKind.AR_LSTM][0].predictor.model
        five = AutoregressiveLstm.from_config({**three.get_config(), "output_steps": 5})
        five.build((None, INPUT_STEPS, N_INPUTS))
        five.set_weights(three.get_weights())  # the weights do not depend on the horizon

        short = three(tiny_data.x_val).numpy()
        long = five(tiny_data.x_val).numpy()

        assert long.shape == (16, 5, N_OUTPUTS)
        np.testing.assert_allclose(long[:, :3], short, rtol=1e-5, atol=1e-6)

    def test_each_decoder_step_is_fed_the_previous_forecast(self, tiny_data):
        model = self.build(output_steps=4)
        first_cell = model.decoder[0]
        fed = []
        original_call = first_cell.call

        def recording_call(inputs, states, training=False):
            fed.append(inputs.numpy())
            return original_call(inputs, states, training=training)

        first_cell.call = recording_call
        forecast = model(tiny_data.x_val).numpy()

        assert len(fed) == 3  # steps 2, 3 and 4
        for step in range(1, 4):
            np.testing.assert_allclose(fed[step - 1], forecast[:, step - 1], rtol=1e-6)

    def test_training_changes_later_steps_through_earlier_ones(self, tiny_data):
        # Feeding back means step 2 depends on step 1's forecast: perturbing only the
        # output head (which makes step 1) changes step 2 as well.
        model = self.build(output_steps=2)
        before = model(tiny_data.x_val).numpy()
        kernel, bias = model.head.get_weights()
        model.head.set_weights([kernel, bias + 1.0])
        after = model(tiny_data.x_val).numpy()
        step_2_change_from_bias = after[:, 1] - before[:, 1] - 1.0
        assert np.abs(step_2_change_from_bias).max() > 1e-4

    def test_output_steps_1_has_no_decoder_and_still_round_trips(self, tiny_data):
        x, y = tiny_windows(32, seed=3)
        data = TrainingData(x, y[:, :1])
        from tsforge.forecasting.estimators.specs import ArLstmSpec

        spec = ArLstmSpec(NeuralSpec(layers=1, units=4, epochs=1, batch_size=16))
        model = train_model(ResolvedModel("ar", "", 0, spec), data, NullReporter())

        assert model.predictor.model.decoder == []
        np.testing.assert_allclose(load_model(model.artifact, "keras").predict(x), model.predict(x), rtol=1e-5)
