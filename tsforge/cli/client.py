"""What every client command shares: addresses, the token, channels, output, errors."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

import click
import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from tsforge.core.channels import client_channel
from tsforge.core.config import Config, ConfigError, load_config

# Results go to stdout; progress, tables meant for people and errors go to stderr
# when --json is given, so stdout stays machine-readable.
stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)


@dataclass
class Client:
    config: Config
    token: str | None
    json_output: bool

    def channel(self, service: str) -> grpc.Channel:
        return client_channel(self.config.addresses[service], self.config.grpc_max_message_bytes)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        if not self.token:
            raise click.UsageError(
                "no token: set TSFORGE_TOKEN or pass --token (make one with 'tsforge token --tenant NAME')"
            )
        return (("authorization", f"Bearer {self.token}"),)

    @property
    def people(self) -> Console:
        """Where output meant for people goes."""
        return stderr if self.json_output else stdout

    def emit_json(self, message_or_dict) -> None:
        data = message_or_dict if isinstance(message_or_dict, dict) else json_format.MessageToDict(message_or_dict)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")


def client_options(command: Callable) -> Callable:
    """Adds --token and --json to a command and hands it a ready Client."""

    @click.option("--json", "json_output", is_flag=True, help="Print machine-readable JSON on stdout.")
    @click.option("--token", envvar="TSFORGE_TOKEN", help="Bearer token (default: $TSFORGE_TOKEN).")
    @wraps(command)
    def wrapper(*args, token: str | None, json_output: bool, **kwargs):
        try:
            config = load_config()
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
        client = Client(config=config, token=token, json_output=json_output)
        try:
            return command(client, *args, **kwargs)
        except grpc.RpcError as error:
            raise click.ClickException(describe_rpc_error(error)) from None

    return wrapper


def describe_rpc_error(error: grpc.RpcError) -> str:
    """One readable paragraph for a failed call, with its field violations."""
    code = error.code().name if hasattr(error, "code") else "UNKNOWN"
    lines = [f"{code}: {error.details() if hasattr(error, 'details') else error}"]
    status = rpc_status.from_call(error) if hasattr(error, "trailing_metadata") else None
    for detail in status.details if status else ():
        for kind in (
            error_details_pb2.BadRequest,
            error_details_pb2.QuotaFailure,
            error_details_pb2.PreconditionFailure,
        ):
            if detail.Is(kind.DESCRIPTOR):
                unpacked = kind()
                detail.Unpack(unpacked)
                for violation in getattr(unpacked, "field_violations", None) or unpacked.violations:
                    subject = getattr(violation, "field", "") or getattr(violation, "subject", "")
                    lines.append(f"  - {subject}: {violation.description}")
    if code == "UNAVAILABLE":
        lines.append("  is the platform running? start it with 'tsforge up'")
    return "\n".join(lines)


def precondition_type(error: grpc.RpcError) -> str:
    """The type of the first PreconditionFailure violation of a failed call, or ""."""
    status = rpc_status.from_call(error) if hasattr(error, "trailing_metadata") else None
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            failure = error_details_pb2.PreconditionFailure()
            detail.Unpack(failure)
            return failure.violations[0].type if failure.violations else ""
    return ""


def save_download(client: Client, messages: Iterable, destination: Path, label: str = ""):
    """Writes a download stream (a header with size_bytes and sha256, then chunks) to
    DESTINATION with a progress bar: through DESTINATION.part, renamed only when the
    SHA-256 matches, so nothing half-written is left. Returns the header."""
    digest, header = hashlib.sha256(), None
    partial = destination.with_name(destination.name + ".part")
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with partial.open("wb") as out, Progress(*columns, console=client.people, transient=True) as bar:
        for message in messages:
            if message.HasField("header"):
                header = message.header
                task = bar.add_task(label or header.file_name, total=header.size_bytes)
                continue
            out.write(message.chunk)
            digest.update(message.chunk)
            bar.advance(task, len(message.chunk))
    if header is None or digest.hexdigest() != header.sha256:
        partial.unlink()
        raise click.ClickException("download incomplete or corrupted; nothing written")
    partial.replace(destination)
    return header


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"
