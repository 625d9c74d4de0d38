"""The live display of `tsforge watch`, fed events as WatchRun sends them."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from tsforge.cli.progress import NO_ETA, RunProgress, clock
from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_resources_pb2 as tr

T0 = 1_700_000_000.0
DENSE = "runs/r1/models/dense-1"
LINEAR = "runs/r1/models/linear-2"


def _event(at: float, **content) -> tr.RunEvent:
    stamp = Timestamp()
    stamp.FromNanoseconds(round(at * 1e9))
    return tr.RunEvent(time=stamp, **content)


def _run(epochs: int = 5) -> tr.Run:
    dense = tr.ModelResult(name=DENSE, spec=tr.ModelSpec(model_id="dense-1", dense={"neural": {"epochs": epochs}}))
    linear = tr.ModelResult(name=LINEAR, spec=tr.ModelSpec(model_id="linear-2", linear_regression={}))
    return tr.Run(name="runs/r1", models=[dense, linear])


def _started(name: str, model_type: int, at: float) -> tr.RunEvent:
    return _event(at, model_started=tr.ModelStarted(model=name, model_type=model_type))


def _batch(at: float, epoch: int, batch: int, loss: float = 0.5) -> tr.RunEvent:
    progress = tr.BatchProgress(model=DENSE, epoch=epoch, batch=batch, total_batches=10, loss=loss)
    return _event(at, batch_progress=progress)


def _epoch_end(at: float, epoch: int, loss: float, val_loss: float) -> tr.RunEvent:
    metrics = tr.EpochMetrics(epoch=epoch, loss=loss, val_loss=val_loss)
    return _event(at, epoch_end=tr.EpochEnd(model=DENSE, metrics=metrics, total_epochs=5))


def test_after_epoch_one_of_five_the_line_keeps_its_losses_beside_the_batch_bar_and_an_eta():
    display = RunProgress(_run())
    display.feed(_started(DENSE, common_pb2.MODEL_TYPE_DENSE, T0))
    for batch in range(1, 11):
        display.feed(_batch(T0 + 2 + batch, 1, batch))  # 2 s to build the model, then 1 s a batch
    display.feed(_epoch_end(T0 + 12.5, 1, loss=0.25, val_loss=0.3125))
    [line] = display.lines(now=T0 + 12.5)
    assert "epoch 1: loss 0.25 val_loss 0.3125" in line and NO_ETA not in line
    # 40 batches left at the measured 1 s a batch (the model's start-up not counted).
    assert "ETA 0:00:4" in line, line
    display.feed(_batch(T0 + 14, 2, 1, loss=0.2))
    [line] = display.lines(now=T0 + 14)
    assert "epoch 2/5 · batch 1/10 · loss 0.2" in line
    assert "epoch 1: loss 0.25 val_loss 0.3125" in line  # the last epoch stays on screen
    assert "█" in line and "model 1 of 2" in line


def test_the_eta_is_there_from_the_first_batches_of_the_first_epoch():
    display = RunProgress(_run(epochs=20))
    display.feed(_started(DENSE, common_pb2.MODEL_TYPE_DENSE, T0))
    display.feed(_batch(T0 + 1, 1, 1))
    display.feed(_batch(T0 + 2.5, 1, 4))  # 2 batches a second: 196 batches left
    [line] = display.lines(now=T0 + 2.5)
    assert f"ETA {clock(98)}" in line, line
    [later] = display.lines(now=T0 + 10.5)  # no news for 8 s: the ETA keeps counting down
    assert f"ETA {clock(90)}" in later


def test_models_without_batches_show_they_are_working_and_for_how_long():
    display = RunProgress(_run())
    display.feed(_started(LINEAR, common_pb2.MODEL_TYPE_LINEAR_REGRESSION, T0))
    [line] = display.lines(now=T0 + 75.0)
    assert line.startswith("linear-2") and "training · 0:01:15 · model 2 of 2" in line
    assert display.lines(now=T0 + 75.1) != [line]  # the spinner turns
    finished = tr.ModelFinished(model=LINEAR, state=tr.MODEL_STATE_SUCCEEDED)
    finished.duration.FromSeconds(76)
    assert display.feed(_event(T0 + 76, model_finished=finished)) == ["linear-2 succeeded in 0:01:16"]
    assert display.lines(now=T0 + 77) == []


def test_kept_lines_and_a_watch_that_re_attached_mid_run():
    display = RunProgress()  # no run: events alone, the model first seen by a batch
    state = _event(T0, state_change=tr.RunStateChange(state=tr.RUN_STATE_FAILED, reason="worker lost"))
    assert display.feed(state) == ["run failed (worker lost)"]
    display.feed(_batch(T0 + 1, 3, 5))
    [line] = display.lines(now=T0 + 1)
    assert "epoch 3 · batch 5/10" in line and f"ETA {NO_ETA}" in line  # no total epochs known
    warning = _event(T0 + 2, warning=tr.JobWarning(model=DENSE, message="few samples"))
    assert display.feed(warning) == ["warning: dense-1: few samples"]
