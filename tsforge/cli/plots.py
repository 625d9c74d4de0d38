"""`tsforge eval RUN --plots DIR`: every plot of an evaluation as PNG, drawn by
RenderPlot with the options it takes (models, forecast step, time range, size)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path

import click
from google.protobuf import timestamp_pb2

from tsforge.cli.client import Client, describe_error
from tsforge.client import FailedPrecondition
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.evaluation.v1 import evaluation_service_pb2 as pb

# RenderPlot's bounds (services/evaluation/rendering.py; a test keeps them equal).
PIXELS = (100, 4000)
DPI = (50, 600)


class Instant(click.ParamType):
    """An ISO 8601 date or time, in UTC unless it carries an offset."""

    name = "TIME"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time (e.g. 2024-03-01 or 2024-03-01T06:00+01:00)", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PlotOptions:
    """Where the plots go (None: nowhere) and what RenderPlot is asked for; None and ()
    leave RenderPlot's defaults."""

    folder: Path | None
    models: tuple[str, ...]
    forecast_step: int | None
    start: datetime | None
    end: datetime | None
    width_px: int | None
    height_px: int | None
    dpi: int | None


def plot_options(command: Callable) -> Callable:
    """Adds --plots DIR and the --plot-* options to a command and hands it their
    PlotOptions as `plots`."""

    @click.option(
        "--plots",
        "folder",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Write every plot as PNG into this folder (the --plot-* options shape them).",
    )
    @click.option(
        "--plot-model",
        "plot_models",
        metavar="MODEL",
        multiple=True,
        help="Plot only this model, MODEL or runs/RUN/models/MODEL (repeatable; default: every evaluated one). "
        "Prediction vs actual, residuals and loss curves draw one panel per model.",
    )
    @click.option(
        "--plot-step",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="Prediction vs actual: the forecast step shown, 1 for the first step ahead (default 1).",
    )
    @click.option(
        "--plot-from",
        type=Instant(),
        default=None,
        help="Prediction vs actual: the first target time shown, ISO 8601, UTC unless it has an offset "
        "(default: the split's first).",
    )
    @click.option(
        "--plot-to",
        type=Instant(),
        default=None,
        help="Prediction vs actual: the last target time shown, as --plot-from (default: the split's last).",
    )
    @click.option(
        "--plot-width",
        type=click.IntRange(*PIXELS),
        default=None,
        metavar="PX",
        help="Width of every plot in pixels (default 1000).",
    )
    @click.option(
        "--plot-height",
        type=click.IntRange(*PIXELS),
        default=None,
        metavar="PX",
        help="Height of every plot in pixels (default 600).",
    )
    @click.option(
        "--plot-dpi",
        type=click.IntRange(*DPI),
        default=None,
        metavar="DPI",
        help="Resolution (default 100): at the same pixel size, more dpi is larger text.",
    )
    @wraps(command)
    def wrapper(*args, folder, plot_models, plot_step, plot_from, plot_to, plot_width, plot_height, plot_dpi, **kw):
        shaping = {
            "--plot-model": plot_models,
            "--plot-step": plot_step,
            "--plot-from": plot_from,
            "--plot-to": plot_to,
            "--plot-width": plot_width,
            "--plot-height": plot_height,
            "--plot-dpi": plot_dpi,
        }
        given = [name for name, value in shaping.items() if value not in (None, ())]
        if folder is None and given:
            raise click.UsageError(f"the --plot-* options need --plots DIR (given: {', '.join(given)})")
        if plot_from and plot_to and plot_to < plot_from:
            raise click.BadParameter("is before --plot-from", param_hint="--plot-to")
        options = PlotOptions(folder, plot_models, plot_step, plot_from, plot_to, plot_width, plot_height, plot_dpi)
        return command(*args, plots=options, **kw)

    return wrapper


def write_plots(client: Client, evaluation: er.Evaluation, options: PlotOptions, metric: int, units: int) -> None:
    """Every plot kind into options.folder (per output feature where the kind is);
    a kind RenderPlot cannot draw for these models (FAILED_PRECONDITION, e.g. loss
    curves of scikit-learn models) is skipped with a line saying why.

    Raises click.BadParameter for a --plot-model that was not evaluated.
    """
    assert options.folder is not None
    models = [_model_name(evaluation.run, model) for model in options.models]
    unknown = [model for model in models if model not in evaluation.models]
    if unknown:
        evaluated = ", ".join(name.rsplit("/", 1)[-1] for name in evaluation.models)
        raise click.BadParameter(f"{', '.join(unknown)}: not evaluated here ({evaluated})", param_hint="--plot-model")
    folder = options.folder
    folder.mkdir(parents=True, exist_ok=True)
    requests = {
        "dataset-violins.png": pb.RenderPlotRequest(kind=pb.PLOT_KIND_DATASET_VIOLINS),
        "loss-curves.png": pb.RenderPlotRequest(kind=pb.PLOT_KIND_LOSS_CURVES, models=models),
    }
    window = {"start_time": _timestamp(options.start), "end_time": _timestamp(options.end)}
    for feature in evaluation.features:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in feature)
        requests[f"{safe}-prediction-vs-actual.png"] = pb.RenderPlotRequest(
            kind=pb.PLOT_KIND_PREDICTION_VS_ACTUAL,
            feature=feature,
            units=units,
            models=models,
            forecast_step=options.forecast_step or 0,
            **{field: value for field, value in window.items() if value is not None},
        )
        requests[f"{safe}-residuals.png"] = pb.RenderPlotRequest(
            kind=pb.PLOT_KIND_RESIDUAL_HISTOGRAM, feature=feature, units=units, models=models
        )
        requests[f"{safe}-error-per-step.png"] = pb.RenderPlotRequest(
            kind=pb.PLOT_KIND_ERROR_PER_STEP, feature=feature, metric=metric, units=units, models=models
        )
    for file_name, request in requests.items():
        request.name = evaluation.name
        request.width_px = options.width_px or 0
        request.height_px = options.height_px or 0
        request.dpi = options.dpi or 0
        try:
            image = client.api.call(client.api.evaluation.RenderPlot, request)
        except FailedPrecondition as refused:  # e.g. no loss curves for scikit-learn models
            client.people.print(f"skipped {file_name}: {describe_error(refused)}")
            continue
        (folder / file_name).write_bytes(image.data)
        client.people.print(f"wrote {folder / file_name}")


def _model_name(run: str, model: str) -> str:
    return model if model.startswith("runs/") else f"{run}/models/{model}"


def _timestamp(instant: datetime | None) -> timestamp_pb2.Timestamp | None:
    if instant is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(instant.astimezone(UTC).replace(tzinfo=None))
    return stamp
