"""`tsforge predictions RUN[/models/M]`: a run's stored predictions as a wide CSV file."""

from __future__ import annotations

import sys

import click
import pandas as pd

from tsforge.cli.client import Client, client_options, stderr
from tsforge.client.client import SPLITS
from tsforge.training.v1 import training_resources_pb2 as tr


def _names(target: str) -> tuple[str, str]:
    """(run, model or "") of RUN, runs/RUN, RUN/models/M or runs/RUN/models/M."""
    name = target if target.startswith("runs/") else f"runs/{target}"
    run, _, model = name.partition("/models/")
    return run, f"{run}/models/{model}" if model else ""


@click.command()
@click.argument("target", metavar="RUN[/models/MODEL]")
@click.option(
    "--split", type=click.Choice(sorted(SPLITS)), default="test", show_default=True, help="Which split's samples."
)
@click.option(
    "--out",
    "destination",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The CSV file to write ('-': standard output).",
)
@client_options
def predictions(client: Client, target: str, split: str, destination: str) -> None:
    """Export a run's stored predictions on one split as a wide CSV file (ReadPredictions).

    One row per model and reference time (the sample's time: the forecast is made from
    the data up to it), ordered by model, then time. Columns:

    \b
      model            the model's id (every SUCCEEDED model of RUN, or just MODEL)
      reference_time   ISO 8601, UTC
      then for each output feature F and step K = 1..N (the session's output steps):
      F.K.time         the instant step K forecasts (ISO 8601, UTC)
      F.K.actual       the measured value there, original units
      F.K.predicted    the model's forecast, original units
      F.K.lower_L      and F.K.upper_L: the bounds of the L % prediction
                       interval (e.g. lower_80), when the model has intervals

    A model without intervals leaves their columns empty when another model of the
    run has them.
    """
    run_name, model = _names(target)
    if model:
        models = [model]
    else:
        run = client.api.run(run_name)
        models = [m.name for m in run.models if m.state == tr.MODEL_STATE_SUCCEEDED]
        skipped = [m.name.rsplit("/", 1)[-1] for m in run.models if m.state != tr.MODEL_STATE_SUCCEEDED]
        if skipped:
            client.people.print(f"left out (not SUCCEEDED): {', '.join(skipped)}")
        if not models:
            raise click.ClickException(f"{run_name} has no SUCCEEDED model")
    frames = []
    for name in models:
        wide = client.api.predictions_wide(name, split)
        wide.insert(0, "model", name.rsplit("/", 1)[-1])
        frames.append(wide)
    table = pd.concat(frames, ignore_index=True)
    table = table[_ordered(list(table.columns))]
    for column in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[column]):
            table[column] = table[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    people = stderr if destination == "-" else client.people
    table.to_csv(sys.stdout if destination == "-" else destination, index=False)
    people.print(f"{len(table)} rows ({len(models)} model(s), {split} split) written to {destination}")


def _ordered(columns: list[str]) -> list[str]:
    """model, reference_time, then by feature (first seen first), step, and time,
    actual, predicted, the bounds: a model with intervals after one without keeps its
    bound columns beside their step."""
    fixed = ["model", "reference_time"]
    per_step = [c for c in columns if c not in fixed]
    features = list(dict.fromkeys(c.rsplit(".", 2)[0] for c in per_step))
    rank = {"time": 0, "actual": 1, "predicted": 2}

    def key(column: str):
        feature, step, quantity = column.rsplit(".", 2)
        return features.index(feature), int(step), rank.get(quantity, 3), quantity

    return fixed + sorted(per_step, key=key)
