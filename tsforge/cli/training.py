"""`tsforge session`, `tsforge train`, `tsforge watch`, `tsforge runs`, `tsforge cancel`."""

from __future__ import annotations

import time

import click
from rich.console import Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from tsforge.cli.client import Client, client_options
from tsforge.cli.progress import RunProgress
from tsforge.common.v1 import common_pb2
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as pb
from tsforge.training.v1 import training_service_pb2_grpc as pb_grpc

MODEL_TYPES = (
    "dense",
    "cnn",
    "lstm",
    "ar-lstm",
    "svr-direct",
    "svr-mimo",
    "linear",
    "lightgbm",
    "mstl",
    "auto-ets",
    "auto-arima",
    "seasonal-naive",
    "ensemble",
)
STATISTICAL = ("mstl", "auto-ets", "auto-arima", "seasonal-naive")
CALENDAR = ("year", "month", "week", "day")
SVR_KERNELS = {
    "linear": tr.SVR_KERNEL_LINEAR,
    "poly": tr.SVR_KERNEL_POLY,
    "rbf": tr.SVR_KERNEL_RBF,
    "sigmoid": tr.SVR_KERNEL_SIGMOID,
}
LIGHTGBM_STRATEGIES = {"direct": tr.LIGHT_GBM_STRATEGY_DIRECT, "step-feature": tr.LIGHT_GBM_STRATEGY_STEP_FEATURE}
TERMINAL = (tr.RUN_STATE_SUCCEEDED, tr.RUN_STATE_FAILED, tr.RUN_STATE_CANCELLED)


def _stub(client: Client) -> pb_grpc.TrainingServiceStub:
    return client.api.training


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
            raise click.BadParameter(
                f"horizon must be START..END in hours relative to the reference time, got {horizon!r}"
            ) from None
    return feature


def _lag(text: str) -> tr.LagFeature:
    """HOURS (of the first output) or FILE[:COLUMN]@HOURS, e.g. 168 or files/ab12:temp@24."""
    source, _, hours = text.rpartition("@")
    file, _, column = source.partition(":")
    try:
        return tr.LagFeature(file=file, column=column, lag_hours=float(hours))
    except ValueError:
        raise click.BadParameter(f"a lag is HOURS or FILE[:COLUMN]@HOURS, got {text!r}") from None


def _duration_seconds(text: str) -> float:
    """ "600", "600s", "10m" or "1h" in seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        return float(number) * units[unit]
    except ValueError:
        raise click.BadParameter(f"a duration is like 600, 600s, 10m or 1h, got {text!r}") from None


@click.group()
def session() -> None:
    """Create a session: which files, which window, which split (`tsforge sessions` lists them)."""


@session.command("create")
@click.argument("display_name")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    required=True,
    metavar="FILE[:COLUMN][@START..END]",
    help="An input feature (repeatable): COLUMN of FILE (optional when it has one value column), over "
    "START..END, hours relative to each reference time (fractions allowed), default -24..0.",
)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    required=True,
    metavar="FILE[:COLUMN][@START..END]",
    help="An output feature (repeatable), as --input; default 0..24 (the next day).",
)
@click.option("--input-steps", default=0, help="Points per input window (default 24).")
@click.option("--output-steps", default=0, help="Points per output window (default 24).")
@click.option("--step-minutes", default=0, help="Minutes between reference times (default 60).")
@click.option("--offset-minutes", default=0, help="Offset of the reference times within a step.")
@click.option("--calendar", "calendar", default="", help=f"Comma-separated calendar features: {', '.join(CALENDAR)}.")
@click.option("--holiday", default="", metavar="COUNTRY[-SUBDIVISION]", help="Add a holiday flag, e.g. AT or DE-BY.")
@click.option(
    "--lag",
    "lags",
    multiple=True,
    metavar="HOURS|FILE[:COLUMN]@HOURS",
    help="The value this many hours before each output step (repeatable), of the first output or another file; "
    "at least the output horizon's end, e.g. 24 and 168.",
)
@click.option(
    "--future-calendar",
    default="",
    help=f"Calendar features at the output steps: {', '.join(CALENDAR)}, holiday (uses --holiday's country).",
)
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
    lags,
    future_calendar: str,
    time_zone: str,
    split: str,
    shuffle_seed,
) -> None:
    """Create a session from uploaded files.

    FILE[:COLUMN][@START..END] names a feature: START..END is in hours relative to each
    sample's reference time (e.g. files/ab12:temp@-24..0, the day before it), and its
    window's points (--input-steps or --output-steps of them) are evenly spaced inside
    it: point k of N lies at START + k * (END - START) / N hours, so -24..0 with 24
    steps is the values at -23 h, -22 h, ..., 0 h. Every problem is reported at once.
    """
    try:
        train, validation, test = (float(x) for x in split.split(","))
    except ValueError:
        raise click.BadParameter("--split must be three comma-separated fractions") from None
    chosen = {c.strip() for c in calendar.split(",") if c.strip()}
    if chosen - set(CALENDAR):
        raise click.BadParameter(f"--calendar takes {', '.join(CALENDAR)}")
    country, _, subdivision = holiday.partition("-")
    future = {c.strip() for c in future_calendar.split(",") if c.strip()}
    if future - {*CALENDAR, "holiday"}:
        raise click.BadParameter(f"--future-calendar takes {', '.join(CALENDAR)}, holiday")
    if "holiday" in future and not country:
        raise click.BadParameter("--future-calendar holiday needs --holiday COUNTRY")
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
        lags=[_lag(text) for text in lags],
        future_calendar=tr.CalendarFeatures(
            **{c: True for c in future - {"holiday"}},
            holiday="holiday" in future,
            holiday_country=country if "holiday" in future else "",
            holiday_subdivision=subdivision if "holiday" in future else "",
            time_zone=time_zone,
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
    found = list(client.api.sessions())
    if client.json_output:
        client.emit_json(pb.ListSessionsResponse(sessions=found))
        return
    table = Table("name", "display name", "inputs", "outputs", "window", "latest dataset")
    for s in found:
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


def _model_spec(kind: str, index: int, seed: int, options: dict) -> tr.ModelSpec:
    """One model's spec from the train command's options (0 / None: the defaults)."""
    neural = tr.NeuralParams(
        epochs=options["epochs"], layers=options["layers"], units=options["units"], batch_size=options["batch_size"]
    )
    svr = tr.SvrParams(kernel=SVR_KERNELS.get(options["svr_kernel"], 0), c=options["svr_c"])
    if options["svr_epsilon"] is not None:
        svr.epsilon = options["svr_epsilon"]
    lightgbm = tr.LightGbmParams(
        n_estimators=options["lgbm_estimators"],
        learning_rate=options["lgbm_learning_rate"],
        num_leaves=options["lgbm_leaves"],
        strategy=LIGHTGBM_STRATEGIES.get(options["lgbm_strategy"], 0),
    )
    statistical = tr.StatisticalParams(season_hours=list(options["seasons"]), history_steps=options["history_steps"])
    spec = tr.ModelSpec(model_id=f"{kind}-{index}", seed=seed)
    if options["model_time_limit"]:
        spec.time_limit.FromNanoseconds(round(_duration_seconds(options["model_time_limit"]) * 1e9))
    {
        "dense": lambda: spec.dense.neural.CopyFrom(neural),
        "cnn": lambda: spec.cnn.neural.CopyFrom(neural),
        "lstm": lambda: spec.lstm.neural.CopyFrom(neural),
        "ar-lstm": lambda: spec.ar_lstm.neural.CopyFrom(neural),
        "svr-direct": lambda: spec.svr_direct.CopyFrom(svr),
        "svr-mimo": lambda: spec.svr_mimo.CopyFrom(svr),
        "linear": lambda: spec.linear_regression.SetInParent(),
        "lightgbm": lambda: spec.lightgbm.CopyFrom(lightgbm),
        "mstl": lambda: spec.mstl.CopyFrom(statistical),
        "auto-ets": lambda: spec.auto_ets.CopyFrom(statistical),
        "auto-arima": lambda: spec.auto_arima.CopyFrom(statistical),
        "seasonal-naive": lambda: spec.seasonal_naive.CopyFrom(statistical),
        "ensemble": lambda: spec.ensemble.SetInParent(),
    }[kind]()
    return spec


@click.command()
@click.argument("session_name", metavar="SESSION")
@click.option(
    "--model",
    "models",
    multiple=True,
    type=click.Choice(MODEL_TYPES),
    help="A model to train (repeatable; an ensemble averages the models before it).",
)
@click.option(
    "--preset",
    type=click.Choice(["auto"]),
    default=None,
    help="auto: seasons, lags, calendar and a portfolio of models chosen from the files, within --time-limit.",
)
@click.option("--time-limit", default="10m", show_default=True, help="With --preset auto: the whole run's wall time.")
@click.option("--dataset", default="", help="Train on this dataset (default: build a new one from the session).")
@click.option("--epochs", default=0, help="Epochs for neural models (default 20).")
@click.option("--layers", default=0, help="Hidden layers for neural models (default 2; LSTMs 1).")
@click.option("--units", default=0, help="Units per layer for neural models (default 64; LSTMs 32).")
@click.option("--batch-size", default=0, help="Batch size for neural models (default 32).")
@click.option("--svr-c", default=0.0, help="SVR regularisation C (default 1).")
@click.option(
    "--svr-epsilon", type=float, default=None, help="SVR epsilon, in standard deviations of the target (default 0.1)."
)
@click.option("--svr-kernel", type=click.Choice(sorted(SVR_KERNELS)), default=None, help="SVR kernel (default poly).")
@click.option("--lgbm-estimators", default=0, help="LightGBM boosting rounds at most (default 100).")
@click.option("--lgbm-learning-rate", default=0.0, help="LightGBM learning rate (default 0.1).")
@click.option("--lgbm-leaves", default=0, help="LightGBM leaves per tree (default 31).")
@click.option(
    "--lgbm-strategy",
    type=click.Choice(sorted(LIGHTGBM_STRATEGIES)),
    default=None,
    help="LightGBM: direct (default) or step-feature.",
)
@click.option(
    "--season",
    "seasons",
    multiple=True,
    type=float,
    help="Statistical models: a season in hours (repeatable; default from the data).",
)
@click.option("--history-steps", default=0, help="Statistical models: values each forecast starts from.")
@click.option(
    "--model-time-limit", default="", help="Each model's time budget, e.g. 2m (budgets add up along the run)."
)
@click.option("--seed", default=0, help="Seed for weights and batch order.")
@click.option("--watch/--no-watch", default=True, show_default=True, help="Follow progress until the run ends.")
@client_options
def train(
    client: Client,
    session_name: str,
    models,
    preset,
    time_limit: str,
    dataset: str,
    seed,
    watch: bool,
    **options,
) -> None:
    """Train models on a session's dataset (or let --preset auto choose), and watch them live.

    Exit status (watching): 0 when the run SUCCEEDED, 3 when it FAILED, 4 when it was
    CANCELLED, 1 for any other error.
    """
    stub = _stub(client)
    if preset == "auto":
        _train_auto(client, stub, session_name, time_limit, watch)
        return
    if not models:
        raise click.UsageError("name at least one --model, or use --preset auto")
    if not dataset:
        dataset = stub.BuildDataset(
            pb.BuildDatasetRequest(parent=session_name), metadata=client.metadata()
        ).dataset.name
        client.people.print(f"building {dataset}")
        if watch:
            _watch_build(client, dataset)
    specs = [_model_spec(kind, i + 1, seed, options) for i, kind in enumerate(models)]
    run = stub.CreateRun(
        pb.CreateRunRequest(run=tr.Run(dataset=dataset, model_specs=specs)), metadata=client.metadata()
    ).run
    client.people.print(f"started {run.name}")
    if watch:
        _watch_run(client, run.name, 0)
    elif client.json_output:
        client.emit_json(run)


def _train_auto(client: Client, stub, session_name: str, time_limit: str, watch: bool) -> None:
    request = pb.TrainAutoRequest(session=session_name)
    request.time_limit.FromNanoseconds(round(_duration_seconds(time_limit) * 1e9))
    response = stub.TrainAuto(request, metadata=client.metadata())
    for note in response.plan.notes:
        client.people.print(f"auto: {note}")
    client.people.print(f"building {response.dataset.name}")
    client.people.print(f"started {response.run.name}")
    if watch:
        _watch_build(client, response.dataset.name)
        _watch_run(client, response.run.name, 0)
    elif client.json_output:
        client.emit_json(response)


def _watch_build(client: Client, dataset: str) -> None:
    """Shows a dataset build's progress until it ends; raises ClickException when it failed."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(), console=client.people, transient=True
    ) as progress:
        task = progress.add_task("dataset: queued", total=None)
        for event in client.api.watch_dataset(dataset, on_reattach=_reattaching(client)):
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
    built = client.api.call(client.api.training.GetDataset, pb.GetDatasetRequest(name=dataset)).dataset
    client.people.print(
        f"dataset ready: {built.train_sample_count}/{built.validation_sample_count}/"
        f"{built.test_sample_count} samples (train/validation/test), {built.dropped_sample_count} dropped"
    )


# Exit status of `tsforge train` (watching) and `tsforge watch`, by how the run ended.
EXIT_CODES = {tr.RUN_STATE_SUCCEEDED: 0, tr.RUN_STATE_FAILED: 3, tr.RUN_STATE_CANCELLED: 4}


def _reattaching(client: Client):
    def say(code, last: int) -> None:
        client.people.print(f"[yellow]connection lost ({code.name}); re-attaching after event {last}…")

    return say


class _LiveLines:
    """The live part of a RunProgress, drawn afresh at each refresh (the spinner and the
    ETA move between events)."""

    def __init__(self, display: RunProgress):
        self.display = display

    def __rich__(self) -> Group:
        return Group(*(Text(line) for line in self.display.lines(time.time())))


def _watch_run(client: Client, run_name: str, after: int) -> None:
    """Follows the run until it ends (tsforge.client re-attaches a broken stream with
    the last sequence seen: nothing is missed or shown twice), then prints the result
    and exits with the run's status (EXIT_CODES)."""
    display = RunProgress(client.api.run(run_name))
    last = after
    try:
        with Live(_LiveLines(display), console=client.people, transient=True, refresh_per_second=4) as live:
            for event in client.api.watch(run_name, after, on_reattach=_reattaching(client)):
                last = event.sequence
                for line in display.feed(event):
                    live.console.print(Text(line))
    except KeyboardInterrupt:
        client.people.print(
            f"\nstopped watching; the run goes on. Re-attach with: tsforge watch {run_name} --after {last}"
        )
        return
    run = client.api.run(run_name)
    if client.json_output:
        client.emit_json(run)
    else:
        _print_run(client, run)
    code = EXIT_CODES.get(run.state, 1)
    if code:
        client.people.print(f"the run ended {tr.RunState.Name(run.state).removeprefix('RUN_STATE_')}")
        click.get_current_context().exit(code)


def _print_run(client: Client, run: tr.Run) -> None:
    scored = [(m.validation.mae, m.name) for m in run.models if m.HasField("validation")]
    best = min(scored)[1] if scored else ""
    table = Table("model", "type", "state", "epochs", "best val_loss", "val MAE", "80 % interval ±", "note")
    for m in run.models:
        losses = [h.val_loss for h in m.history if h.HasField("val_loss")]
        width = "-"
        if 0.8 in m.intervals.levels:
            steps = len(m.intervals.half_widths) // max(1, len(m.intervals.levels))
            first = list(m.intervals.levels).index(0.8) * steps
            widths = m.intervals.half_widths[first : first + steps]
            width = f"{min(widths):.4g}..{max(widths):.4g}"
        table.add_row(
            m.name.rsplit("/", 1)[1] + (" (best)" if m.name == best else ""),
            common_pb2.ModelType.Name(m.model_type).removeprefix("MODEL_TYPE_"),
            tr.ModelState.Name(m.state).removeprefix("MODEL_STATE_"),
            str(len(m.history)),
            f"{min(losses):.4g}" if losses else "-",
            f"{m.validation.mae:.4g}" if m.HasField("validation") else "-",
            width,
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
    _watch_run(client, run_name, after)


@click.command()
@click.option("--session", "session_name", default="", help="Only runs of this session.")
@client_options
def runs(client: Client, session_name: str) -> None:
    """List your runs, newest first."""
    found = list(client.api.runs(session=session_name))
    if client.json_output:
        client.emit_json(pb.ListRunsResponse(runs=found))
        return
    table = Table("name", "state", "models", "created")
    for r in found:
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
