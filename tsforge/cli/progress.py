"""What `tsforge train --watch` and `tsforge watch` show of a run, computed from its
events alone, so that it can be tested without a terminal or a clock.

RunProgress.feed(event) takes the WatchRun events in order and returns the lines to
keep (state changes, models finished, warnings); RunProgress.lines(now) is the live
part, one line per model being trained:

    dense-1   ███████░░░░░░  epoch 2/5 · batch 4/10 · loss 0.0123 │ epoch 1: loss 0.015 val_loss 0.017 │ ETA 0:00:07
    linear-2  ⠹ training · 0:00:04 · model 2 of 3

The ETA comes from the rate between the first and the latest progress point the model
reported (batches and epochs), so it is there after the first batches rather than after
the first epochs, and leaves out the time the model took to start. Models that report
no batches (scikit-learn, LightGBM, statistical models) show a spinner and the time
they have been training. Times are the events' own (the server's clock); `now` is
compared with them for the time since the latest event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_resources_pb2 as tr

BAR_WIDTH = 20
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
NO_ETA = "-:--:--"
NEURAL = ("dense", "cnn", "lstm", "ar_lstm")


def clock(seconds: float | None) -> str:
    """H:MM:SS of a duration in seconds; -:--:-- when unknown."""
    if seconds is None:
        return NO_ETA
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def _seconds(stamp) -> float:
    return stamp.seconds + stamp.nanos / 1e9


def _state(value: int, enum) -> str:
    return enum.Name(value).split("_STATE_", 1)[-1].lower()


@dataclass
class _Model:
    """One model's progress as its events told it."""

    label: str
    position: int  # 1-based, in the run's order; 0 when the run was not given
    total_epochs: int = 0  # 0: not known (yet)
    started: float | None = None
    epoch: int = 0  # the epoch in progress (batch events) or last ended
    batch: int = 0
    total_batches: int = 0
    batch_loss: float | None = None
    last_epoch: tr.EpochMetrics | None = None
    epochs_done: int = 0
    reports_batches: bool = False
    first_point: tuple[float, float] | None = None  # (time, fraction done)
    last_point: tuple[float, float] | None = None
    finished: bool = False

    def progressed(self, time: float, fraction: float) -> None:
        if self.first_point is None:
            self.first_point = (time, fraction)
        self.last_point = (time, fraction)

    def eta(self, now: float) -> float | None:
        """Seconds left, from the rate between the first and the latest progress point
        (from the start to the latest point while there is only one); None before any."""
        if self.first_point is None or self.last_point is None:
            return None
        (t0, f0), (t1, f1) = self.first_point, self.last_point
        if f1 > f0 and t1 > t0:
            rate = (t1 - t0) / (f1 - f0)
        elif f1 > 0 and self.started is not None and t1 > self.started:
            rate = (t1 - self.started) / f1
        else:
            return None
        return max(0.0, rate * (1 - f1) - max(0.0, now - t1))


@dataclass
class RunProgress:
    """A run's live display, fed its events. `run` (GetRun's answer, optional) gives the
    models' order and configured epochs, so the ETA is known from the first batch."""

    run: tr.Run | None = None
    models: dict[str, _Model] = field(default_factory=dict)
    dataset: str = ""

    def __post_init__(self) -> None:
        for position, result in enumerate(self.run.models if self.run else (), 1):
            model = self._model(result.name)
            model.position = position
            kind = result.spec.WhichOneof("params")
            if kind in NEURAL:
                model.total_epochs = getattr(result.spec, kind).neural.epochs

    def _model(self, name: str) -> _Model:
        if name not in self.models:
            self.models[name] = _Model(label=name.rsplit("/", 1)[-1], position=0)
        return self.models[name]

    def feed(self, event: tr.RunEvent) -> list[str]:
        """Takes the next event; returns the lines to keep on screen."""
        kind = event.WhichOneof("event")
        time = _seconds(event.time)
        if kind == "model_started":
            model = self._model(event.model_started.model)
            model.started = time
            model.reports_batches = event.model_started.model_type in _NEURAL_TYPES
            return []
        if kind == "batch_progress":
            return self._batch(event.batch_progress, time)
        if kind == "epoch_end":
            return self._epoch_end(event.epoch_end, time)
        if kind == "model_finished":
            return self._finished(event.model_finished)
        if kind == "dataset_build_progress":
            p = event.dataset_build_progress
            self.dataset = f"dataset: {p.stage or 'building'} {p.done}/{p.total}" if p.total else "dataset: building"
            return []
        if kind == "state_change":
            self.dataset = ""
            change = event.state_change
            reason = f" ({change.reason})" if change.reason else ""
            return [f"run {_state(change.state, tr.RunState)}{reason}"]
        if kind == "warning":
            about = f"{event.warning.model.rsplit('/', 1)[-1]}: " if event.warning.model else ""
            return [f"warning: {about}{event.warning.message}"]
        if kind == "error":
            about = event.error.model.rsplit("/", 1)[-1] if event.error.model else "run"
            return [f"error {about}: {event.error.message}"]
        if kind == "summary":
            s = event.summary
            counts = [f"{s.succeeded_count} succeeded"]
            others = ((s.failed_count, "failed"), (s.cancelled_count, "cancelled"), (s.skipped_count, "skipped"))
            counts += [f"{n} {word}" for n, word in others if n]
            best = f"; best on validation: {s.best_model.rsplit('/', 1)[-1]}" if s.best_model else ""
            return [f"{', '.join(counts)} in {clock(s.duration.ToTimedelta().total_seconds())}{best}"]
        return []

    def _batch(self, b: tr.BatchProgress, time: float) -> list[str]:
        model = self._model(b.model)
        model.reports_batches = True
        model.started = model.started if model.started is not None else time
        model.epoch, model.batch, model.total_batches, model.batch_loss = b.epoch, b.batch, b.total_batches, b.loss
        if model.total_epochs and b.total_batches:
            model.progressed(time, ((b.epoch - 1) * b.total_batches + b.batch) / (model.total_epochs * b.total_batches))
        return []

    def _epoch_end(self, e: tr.EpochEnd, time: float) -> list[str]:
        model = self._model(e.model)
        model.reports_batches = True
        model.started = model.started if model.started is not None else time
        model.total_epochs = e.total_epochs or model.total_epochs
        model.last_epoch = e.metrics
        model.epoch = model.epochs_done = e.metrics.epoch
        model.batch, model.batch_loss = model.total_batches, None
        if model.total_epochs:
            model.progressed(time, e.metrics.epoch / model.total_epochs)
        return []

    def _finished(self, f: tr.ModelFinished) -> list[str]:
        model = self._model(f.model)
        model.finished = True
        state = _state(f.state, tr.ModelState)
        took = f" in {clock(f.duration.ToTimedelta().total_seconds())}" if f.HasField("duration") else ""
        line = f"{model.label} {state}{took}"
        if model.last_epoch is not None:
            line += f" · {model.epochs_done} epochs · {_losses(model.last_epoch)}"
        if f.failure_reason:
            line += f": {f.failure_reason}"
        return [line]

    def lines(self, now: float) -> list[str]:
        """The live part at time `now` (seconds since the epoch): the dataset build the
        run waits for, then one line per model started and not finished."""
        shown = [self.dataset] if self.dataset else []
        active = [m for m in self.models.values() if not m.finished]
        width = max((len(m.label) for m in active if m.started is not None), default=0)
        of = f" of {len(self.run.models)}" if self.run else ""
        for model in active:
            if model.started is None:  # named by GetRun, not started yet
                continue
            label = model.label.ljust(width)
            position = f" · model {model.position}{of}" if model.position else ""
            if not model.reports_batches:
                spinner = SPINNER[int(now * 10) % len(SPINNER)]
                shown.append(f"{label}  {spinner} training · {clock(now - model.started)}{position}")
                continue
            fraction = model.last_point[1] if model.last_point else 0.0
            epochs = f"{model.epoch or 1}/{model.total_epochs}" if model.total_epochs else f"{model.epoch or 1}"
            parts = [f"epoch {epochs}"]
            if model.total_batches and model.batch_loss is not None:
                parts.append(f"batch {model.batch}/{model.total_batches}")
                parts.append(f"loss {model.batch_loss:.4g}")
            text = " · ".join(parts)
            if model.last_epoch is not None:
                text += f" │ epoch {model.last_epoch.epoch}: {_losses(model.last_epoch)}"
            text += f" │ ETA {clock(model.eta(now))}"
            shown.append(f"{label}  {bar(fraction)}  {text}{position}")
        return shown


_NEURAL_TYPES = (
    common_pb2.MODEL_TYPE_DENSE,
    common_pb2.MODEL_TYPE_CNN,
    common_pb2.MODEL_TYPE_LSTM,
    common_pb2.MODEL_TYPE_AR_LSTM,
)


def _losses(metrics: tr.EpochMetrics) -> str:
    text = f"loss {metrics.loss:.4g}"
    if metrics.HasField("val_loss"):
        text += f" val_loss {metrics.val_loss:.4g}"
    return text
