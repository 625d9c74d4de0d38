"""`tsforge session`, `tsforge train`, `tsforge watch`, `tsforge runs`, `tsforge cancel`."""

from __future__ import annotations

import time

import click
import grpc
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from tsforge.cli.client import Client, client_options
from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb
from tsforge.training.v1 import training_service_pb2_grpc as pb_grpc

MODEL_TYPES = ("dense", "cnn", "lstm", "ar-lstm", "svr-direct", "svr-mimo", "linear")
CALENDAR = ("year", "month", "week", "day")
TERMINAL = (tr.RUN_STATE_SUCCEEDED, tr.RUN_STATE_FAILED, tr.RUN_STATE_CANCELLED)


def _stub(client: Client) -> pb_grpc.TrainingServiceStub:
    return pb_grpc.TrainingServiceStub(client.channel("training"))


def _feature(text: str) -> tr.FeatureSpec:
    """FILE[:COLUMN][@START..END], e.g. files/ab12:load@-24..0."""
    file_part, _, horizon = text.partition("@")
    file, _, column = file_part.partition(":")
    feature = tr.FeatureSpec(file=file, column=column)
    if horizon:
        start, _, end = horizon.partition("..")
        try:
            feature.horizon.start, feature.horizon.end = float(start), float(end)
        except ValueError:
            raise click.BadParameter(f"horizon must be START..END in hours, got {horizon!r}") from None
    return feature


@click.group()
def session() -> None:
    """Create and list sessions: which files, which window, which split."""


@session.command("create")
@click.argument("display_name")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    metavar="FILE[:COLUMN][@START..END]",
    help="An input feature (repeatable); horizon in hours, default -24..0.",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    required=True,
    metavar="FILE[:COLUMN][@START..END]",
    help="An output feature (repeatable); horizon in hours, default 0..24.",
)
@click.option("--input-steps", default=0, help="Points per input window (default 24).")
@click.option("--output-steps", default=0, help="Points per output window (default 24).")
@click.option("--step-minutes", default=0, help="Minutes between reference times (default 60).")
@click.option("--offset-minutes", default=0, help="Offset of the reference times within a step.")
@click.option("--calendar", "calendar", default="", help=f"Comma-separated calendar features: {', '.join(CALENDAR)}.")
@click.option("--holiday", default="", metavar="COUNTRY[-SUBDIVISION]", help="Add a holiday flag, e.g. AT or DE-BY.")
@click.option("--time-zone", default="UTC", show_default=True, help="IANA zone for calendar features.")
@click.option("--split", default="0.7,0.2,0.1", show_default=True, help="Train,validation,test fractions.")
@click.option("--shuffle-seed", type=int, default=None, help="Shuffle samples with this seed (default: chronological).")
@client_options
def create_session(
    client: Client,
    display_name: str,
    inputs,
    outputs,
    input_steps,
    output_steps,
    step_minutes,
    offset_minutes,
    calendar: str,
    holiday: str,
    time_zone: str,
    split: str,
    shuffle_seed,
) -> None:
    """Create a session from uploaded files."""
    try:
        train, validation, test = (float(x) for x in split.split(","))
    except ValueError:
        raise click.BadParameter("--split must be three comma-separated fractions") from None
    chosen = {c.strip() for c in calendar.split(",") if c.strip()}
    if chosen - set(CALENDAR):
        raise click.BadParameter(f"--calendar takes {', '.join(CALENDAR)}")
    country, _, subdivision = holiday.partition("-")
    spec = tr.DatasetSpec(
        inputs=[_feature(i) for i in inputs],
        outputs=[_feature(o) for o in outputs],
        window=tr.WindowConfig(
            input_steps=input_steps, output_steps=output_steps, step_minutes=step_minutes, offset_minutes=offset_minutes
        ),
        calendar=tr.CalendarFeatures(
            **{c: True for c in chosen},
            holiday=bool(country),
            holiday_country=country,
            holiday_subdivision=subdivision,
            time_zone=time_zone,
        ),
        split=tr.SplitConfig(
            train_fraction=train,
            validation_fraction=validation,
            test_fraction=test,
            method=tr.SPLIT_METHOD_SHUFFLED if shuffle_seed is not None else tr.SPLIT_METHOD_CHRONOLOGICAL,
            seed=shuffle_seed or 0,
        ),
    )
    created = (
        _stub(client)
        .CreateSession(
            pb.CreateSessionRequest(session=tr.Session(display_name=display_name, spec=spec)),
            metadata=client.metadata(),
        )
        .session
    )
    if client.json_output:
        client.emit_json(created)
    else:
        window = created.spec.window
        client.people.print(
            f"created {created.name}: {len(spec.inputs)} input(s), {len(spec.outputs)} output(s), "
            f"{window.input_steps}→{window.output_steps} steps every {window.step_minutes} min"
        )


@click.command()
@client_options
def sessions(client: Client) -> None:
    """List your sessions, newest first."""
    page = _stub(client).ListSessions(pb.ListSessionsRequest(page_size=100), metadata=client.metadata())
    if client.json_output:
        client.emit_json(page)
        return
    table = Table("name", "display name", "inputs", "outputs", "window", "latest dataset")
    for s in page.sessions:
        w = s.spec.window
        table.add_row(
            s.name,
            s.display_name,
            str(len(s.spec.inputs)),
            str(len(s.spec.outputs)),
            f"{w.input_steps}→{w.output_steps} / {w.step_minutes} min",
            s.latest_dataset or "-",
        )
    client.people.print(table)


def _model_spec(
    kind: str, index: int, epochs: int, layers: int, units: int, batch_size: int, seed: int
) -> tr.ModelSpec:
    neural = tr.NeuralParams(epochs=epochs, layers=layers, units=units, batch_size=batch_size)
    spec = tr.ModelSpec(model_id=f"{kind}-{index}" if kind != "linear" else f"linear-{index}", seed=seed)
    {
        "dense": lambda: spec.dense.neural.CopyFrom(neural),
        "cnn": lambda: spec.cnn.neural.CopyFrom(neural),
        "lstm": lambda: spec.lstm.neural.CopyFrom(neural),
        "ar-lstm": lambda: spec.ar_lstm.neural.CopyFrom(neural),
        "svr-direct": lambda: spec.svr_direct.SetInParent(),
        "svr-mimo": lambda: spec.svr_mimo.SetInParent(),
        "linear": lambda: spec.linear_regression.SetInParent(),
    }[kind]()
    return spec


@click.command()
@click.argument("session_name", metavar="SESSION")
@click.option(
    "--model",
    "models",
    multiple=True,
    required=True,
    type=click.Choice(MODEL_TYPES),
    help="A model to train (repeatable).",
)
@click.option("--dataset", default="", help="Train on this dataset (default: build a new one from the session).")
@click.option("--epochs", default=0, help="Epochs for neural models (default 20).")
@click.option("--layers", default=0, help="Hidden layers for neural models (default 3).")
@click.option("--units", default=0, help="Units per layer for neural models (default 512).")
@click.option("--batch-size", default=0, help="Batch size for neural models (default 32).")
@click.option("--seed", default=0, help="Seed for weights and batch order.")
@click.option("--watch/--no-watch", default=True, show_default=True, help="Follow progress until the run ends.")
@client_options
def train(
    client: Client, session_name: str, models, dataset: str, epochs, layers, units, batch_size, seed, watch: bool
) -> None:
    """Train models on a session's dataset, and watch them live.

    Exit status (watching): 0 when the run SUCCEEDED, 3 when it FAILED, 4 when it was
    CANCELLED, 1 for any other error.
    """
    stub = _stub(client)
    if not dataset:
        dataset = stub.BuildDataset(
            pb.BuildDatasetRequest(parent=session_name), metadata=client.metadata()
        ).dataset.name
        client.people.print(f"building {dataset}")
        if watch:
            _watch_build(client, stub, dataset)
    specs = [_model_spec(kind, i + 1, epochs, layers, units, batch_size, seed) for i, kind in enumerate(models)]
    run = stub.CreateRun(
        pb.CreateRunRequest(run=tr.Run(dataset=dataset, model_specs=specs)), metadata=client.metadata()
    ).run
    client.people.print(f"started {run.name}")
    if watch:
        _watch_run(client, stub, run.name, 0)
    elif client.json_output:
        client.emit_json(run)


def _watch_build(client: Client, stub, dataset: str) -> None:
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(), console=client.people, transient=True
    ) as progress:
        task = progress.add_task("dataset: queued", total=None)
        for response in stub.WatchDatasetBuild(pb.WatchDatasetBuildRequest(name=dataset), metadata=client.metadata()):
            event = response.event
            kind = event.WhichOneof("event")
            if kind == "progress":
                progress.update(
                    task,
                    description=f"dataset: {event.progress.stage}",
                    completed=event.progress.done,
                    total=event.progress.total or None,
                )
            elif kind == "warning":
                client.people.print(f"[yellow]warning:[/yellow] {event.warning.message}")
            elif kind == "state_change" and event.state_change.state == tr.DATASET_STATE_FAILED:
                raise click.ClickException(f"the dataset build failed: {event.state_change.reason}")
    built = stub.GetDataset(pb.GetDatasetRequest(name=dataset), metadata=client.metadata()).dataset
    client.people.print(
        f"dataset ready: {built.train_sample_count}/{built.validation_sample_count}/"
        f"{built.test_sample_count} samples (train/validation/test), {built.dropped_sample_count} dropped"
    )


# Exit status of `tsforge train` (watching) and `tsforge watch`, by how the run ended.
EXIT_CODES = {tr.RUN_STATE_SUCCEEDED: 0, tr.RUN_STATE_FAILED: 3, tr.RUN_STATE_CANCELLED: 4}
# How long a watch keeps re-attaching while the platform is unreachable.
REATTACH_SECONDS = 300.0


def _watch_run(client: Client, stub, run_name: str, after: int) -> None:
    """Follows the run until it ends, re-attaching with the last sequence seen when the
    stream breaks (a restarting service or database: nothing is missed or shown twice),
    then prints the result and exits with the run's status (EXIT_CODES)."""
    tasks: dict[str, int] = {}
    last = after
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeRemainingColumn(),
            console=client.people,
        ) as progress:
            broken_since: float | None = None
            while True:
                try:
                    for response in stub.WatchRun(
                        pb.WatchRunRequest(name=run_name, after_sequence=last), metadata=client.metadata()
                    ):
                        broken_since = None
                        event = response.event
                        last = event.sequence
                        _show(client, progress, tasks, event)
                    break  # the run has ended
                except grpc.RpcError as error:
                    if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL):
                        raise
                    broken_since = broken_since or time.monotonic()
                    if time.monotonic() - broken_since > REATTACH_SECONDS:
                        raise
                    client.people.print(f"[yellow]connection lost ({error.code().name}); re-attaching after {last}…")
                    time.sleep(2)
    except KeyboardInterrupt:
        client.people.print(
            f"\nstopped watching; the run goes on. Re-attach with: tsforge watch {run_name} --after {last}"
        )
        return
    run = stub.GetRun(pb.GetRunRequest(name=run_name), metadata=client.metadata()).run
    if client.json_output:
        client.emit_json(run)
    else:
        _print_run(client, run)
    code = EXIT_CODES.get(run.state, 1)
    if code:
        client.people.print(f"the run ended {tr.RunState.Name(run.state).removeprefix('RUN_STATE_')}")
        click.get_current_context().exit(code)


def _show(client: Client, progress: Progress, tasks: dict, event: tr.RunEvent) -> None:
    kind = event.WhichOneof("event")
    if kind == "model_started":
        name = event.model_started.model
        tasks[name] = progress.add_task(name.rsplit("/", 1)[1], total=None, info="")
    elif kind == "epoch_end":
        e = event.epoch_end
        info = f"loss {e.metrics.loss:.4g}" + (
            f" val {e.metrics.val_loss:.4g}" if e.metrics.HasField("val_loss") else ""
        )
        progress.update(tasks[e.model], completed=e.metrics.epoch, total=e.total_epochs, info=info)
    elif kind == "batch_progress":
        b = event.batch_progress
        progress.update(tasks[b.model], info=f"epoch {b.epoch} batch {b.batch}/{b.total_batches}")
    elif kind == "model_finished":
        f = event.model_finished
        task = tasks.get(f.model)
        if task is not None:
            progress.update(task, total=1, completed=1, info=tr.ModelState.Name(f.state).removeprefix("MODEL_STATE_"))
    elif kind == "warning":
        client.people.print(f"[yellow]warning:[/yellow] {event.warning.message}")
    elif kind == "error":
        client.people.print(f"[red]error[/red] {event.error.model}: {event.error.message}")
    elif kind == "state_change":
        state = tr.RunState.Name(event.state_change.state).removeprefix("RUN_STATE_")
        reason = f" ({event.state_change.reason})" if event.state_change.reason else ""
        client.people.print(f"run {state.lower()}{reason}")


def _print_run(client: Client, run: tr.Run) -> None:
    table = Table("model", "type", "state", "epochs", "best val_loss", "note")
    for m in run.models:
        losses = [h.val_loss for h in m.history if h.HasField("val_loss")]
        table.add_row(
            m.name.rsplit("/", 1)[1],
            common_pb2.ModelType.Name(m.model_type).removeprefix("MODEL_TYPE_"),
            tr.ModelState.Name(m.state).removeprefix("MODEL_STATE_"),
            str(len(m.history)),
            f"{min(losses):.4g}" if losses else "-",
            m.failure_reason,
        )
    client.people.print(table)


@click.command()
@click.argument("run_name", metavar="RUN")
@click.option("--after", default=0, help="Only events after this sequence number.")
@client_options
def watch(client: Client, run_name: str, after: int) -> None:
    """Re-attach to a run's live progress (replays what happened first).

    Exit status: 0 when the run SUCCEEDED, 3 when it FAILED, 4 when it was CANCELLED,
    1 for any other error (a bad request, the platform unreachable for minutes).
    """
    _watch_run(client, _stub(client), run_name, after)


@click.command()
@click.option("--session", "session_name", default="", help="Only runs of this session.")
@client_options
def runs(client: Client, session_name: str) -> None:
    """List your runs, newest first."""
    page = _stub(client).ListRuns(pb.ListRunsRequest(page_size=100, session=session_name), metadata=client.metadata())
    if client.json_output:
        client.emit_json(page)
        return
    table = Table("name", "state", "models", "created")
    for r in page.runs:
        table.add_row(
            r.name,
            tr.RunState.Name(r.state).removeprefix("RUN_STATE_"),
            str(len(r.models)),
            r.create_time.ToJsonString(),
        )
    client.people.print(table)


@click.command()
@click.argument("run_name", metavar="RUN")
@client_options
def cancel(client: Client, run_name: str) -> None:
    """Cancel a run (a running model stops at its next batch)."""
    run = _stub(client).CancelRun(pb.CancelRunRequest(name=run_name), metadata=client.metadata()).run
    client.people.print(f"{run.name}: {tr.RunState.Name(run.state).removeprefix('RUN_STATE_').lower()}")
