"""`tsforge models`: registered models, versions, aliases, downloads and predictions."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from tsforge.cli.client import Client, client_options, first
from tsforge.cli.evaluation import overall_table
from tsforge.common.v1 import common_pb2
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.models.v1 import models_resources_pb2 as mr
from tsforge.models.v1 import models_service_pb2 as pb
from tsforge.models.v1 import models_service_pb2_grpc as pb_grpc

FORMATS = {
    "bundle": common_pb2.ARTIFACT_FORMAT_BUNDLE,
    "keras": common_pb2.ARTIFACT_FORMAT_KERAS,
    "h5": common_pb2.ARTIFACT_FORMAT_H5,
    "joblib": common_pb2.ARTIFACT_FORMAT_JOBLIB,
    "lightgbm": common_pb2.ARTIFACT_FORMAT_LIGHTGBM,
    "ensemble": common_pb2.ARTIFACT_FORMAT_ENSEMBLE,
}


def _stub(client: Client) -> pb_grpc.ModelsServiceStub:
    return client.api.models


def _model_name(text: str) -> str:
    return text if text.startswith("registeredModels/") else f"registeredModels/{text}"


def _version_name(text: str) -> str:
    """MODEL/VERSION, MODEL@ALIAS or a full resource name."""
    if text.startswith("registeredModels/"):
        return text
    if "@" in text:
        return f"registeredModels/{text}"
    model, _, version = text.partition("/")
    return f"registeredModels/{model}/versions/{version}" if version else f"registeredModels/{model}"


@click.group()
def models() -> None:
    """The model registry: list, versions, register, alias, unalias, download and predict.

    Versions are written MODEL/VERSION or MODEL@ALIAS (e.g. load/3, load@production).
    """


@models.command("list")
@click.option("--prefix", default="", help="Only models whose name starts with this.")
@click.option("--tag", default="", help="Only models with this tag: KEY or KEY=VALUE.")
@client_options
def list_models(client: Client, prefix: str, tag: str) -> None:
    """List your registered models."""
    found = list(client.api.registered_models(prefix=prefix, tag=tag))
    if client.json_output:
        client.emit_json({"registeredModels": [_dict(m) for m in found]})
        return
    table = Table("name", "latest", "aliases", "tags", "description")
    for m in found:
        table.add_row(
            m.name.split("/", 1)[1],
            str(m.latest_version),
            ", ".join(f"{a}→{v}" for a, v in sorted(m.aliases.items())),
            ", ".join(f"{k}={v}" for k, v in sorted(m.tags.items())),
            m.description,
        )
    client.people.print(table)


@models.command("versions")
@click.argument("model")
@click.option("--page-size", default=50, show_default=True)
@client_options
def list_versions(client: Client, model: str, page_size: int) -> None:
    """List a model's versions, newest first (the first --page-size of them)."""
    found, more = first(client.api.versions(_model_name(model)), page_size)
    if client.json_output:
        client.emit_json(pb.ListModelVersionsResponse(model_versions=found))
        return
    table = Table("version", "type", "source", "aliases", "created", "description")
    for v in found:
        table.add_row(
            str(v.version),
            common_pb2.ModelType.Name(v.lineage.model_type).removeprefix("MODEL_TYPE_"),
            v.source_model,
            ", ".join(v.aliases),
            v.create_time.ToDatetime().strftime("%Y-%m-%d %H:%M"),
            v.description,
        )
    client.people.print(table)
    if more:
        client.people.print("(more versions: raise --page-size)")


@models.command("register")
@click.argument("model")
@click.argument("source_model", metavar="runs/RUN/models/MODEL")
@click.option("--description", default="")
@client_options
def register(client: Client, model: str, source_model: str, description: str) -> None:
    """Register a trained model of a SUCCEEDED run as MODEL's next version."""
    version = (
        _stub(client)
        .RegisterModelVersion(
            pb.RegisterModelVersionRequest(
                parent=_model_name(model),
                model_version=mr.ModelVersion(source_model=source_model, description=description),
            ),
            metadata=client.metadata(),
        )
        .model_version
    )
    if client.json_output:
        client.emit_json(version)
        return
    lineage = version.lineage
    client.people.print(
        f"registered {version.name}"
        + (
            f" with the metrics of {lineage.evaluation}"
            if lineage.evaluation
            else " (its run has no evaluation of it: `tsforge eval` before registering keeps the metrics)"
        )
    )
    test = next(
        (t for t in lineage.metrics if t.split == common_pb2.DATA_SPLIT_TEST and t.units == er.VALUE_UNITS_ORIGINAL),
        None,
    )
    if test is not None:
        client.people.print(overall_table(test, "overall, test split, original units"))
    comparison = lineage.baseline_comparison
    if lineage.HasField("baseline_comparison") and comparison.HasField("best_baseline"):
        if comparison.models_beating_baseline:
            client.people.print(f"it beats the strongest baseline, {comparison.best_baseline.label}, on validation")
        else:
            client.people.print(
                f"[bold yellow]warning:[/bold yellow] this model does not beat the strongest baseline, "
                f"{comparison.best_baseline.label}, on the validation split"
            )


@models.command("alias")
@click.argument("model")
@click.argument("alias")
@click.argument("version", type=int)
@client_options
def set_alias(client: Client, model: str, alias: str, version: int) -> None:
    """Point ALIAS of MODEL at VERSION (moving it from where it was)."""
    updated = (
        _stub(client)
        .SetAlias(pb.SetAliasRequest(name=_model_name(model), alias=alias, version=version), metadata=client.metadata())
        .registered_model
    )
    client.people.print(f"{model}@{alias} → version {updated.aliases[alias]}")


@models.command("unalias")
@click.argument("model")
@click.argument("alias")
@client_options
def delete_alias(client: Client, model: str, alias: str) -> None:
    """Remove ALIAS from MODEL."""
    _stub(client).DeleteAlias(pb.DeleteAliasRequest(name=_model_name(model), alias=alias), metadata=client.metadata())
    client.people.print(f"removed {model}@{alias}")


@models.command("download")
@click.argument("version")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "format_name", type=click.Choice(sorted(FORMATS)), default="bundle", show_default=True)
@client_options
def download(client: Client, version: str, destination: Path, format_name: str) -> None:
    """Download VERSION (MODEL/N or MODEL@ALIAS) to DESTINATION, SHA-256 checked."""
    try:
        with client.transfer_bar(version) as progress:
            header = client.api.download_version(
                _version_name(version), destination, FORMATS[format_name], progress=progress
            )
    except ValueError as corrupted:
        raise click.ClickException(str(corrupted)) from None
    client.people.print(f"wrote {header.size_bytes} bytes to {destination}")


@models.command("predict")
@click.argument("version")
@click.argument("inputs", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--at",
    "reference_times",
    multiple=True,
    help="Reference time (ISO 8601, UTC unless it has a zone; repeatable). Default: the latest the data allows.",
)
@client_options
def predict(client: Client, version: str, inputs: Path, output: Path, reference_times: tuple[str, ...]) -> None:
    """Forecast with VERSION from INPUTS and write OUTPUT.

    INPUTS is a CSV file like the ones `tsforge upload` takes, read by the same reader
    with the same detection: separator (`,` `;` tab), decimal point or comma, UTF-8 or
    Latin-1, and a timestamp column such as 2000-06-05 00:30:00, ISO 8601 with an
    offset, or 05.06.2000 00:30 (dotted dates are always day.month.year, for the whole
    column; slashed dates are refused, as uploads refuse them). Times without an
    offset are UTC. Its other columns are named after the version's required series
    (its input features, the sources of its lags and, for statistical models, its
    output features).

    OUTPUT gets one row per reference time, output feature and step: reference_time,
    feature, step, time, value, and the bounds of each prediction interval the version
    has (lower_80, upper_80, ...); times are ISO 8601 UTC.
    """
    forecast = client.api.predict(_version_name(version), inputs, list(reference_times) or None)
    for column in ("reference_time", "time"):
        forecast[column] = forecast[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    forecast.to_csv(output, index=False)
    references = forecast["reference_time"].nunique()
    client.people.print(f"{_version_name(version)}: {references} forecasts written to {output}")


def _dict(message) -> dict:
    from google.protobuf import json_format

    return json_format.MessageToDict(message)
