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
from rich.table import Table

from tsforge.client.errors import from_rpc_error
from tsforge.core.channels import client_channel
from tsforge.core.config import Config, ConfigError, load_config


class _Console(Console):
    """A console whose tables never cut a cell short: on a terminal a long cell (a
    resource name) wraps onto the next line instead of ending in "…", and into a pipe
    or file the table is as wide as its widest row."""

    def print(self, *objects, **kwargs) -> None:
        for thing in objects:
            if isinstance(thing, Table):
                for column in thing.columns:
                    column.overflow = "fold"
        # A pipe, a file, a test's capture: no width to fit into (None: a terminal's own).
        self.width = None if self.is_terminal else 100_000
        super().print(*objects, **kwargs)


# Results go to stdout; progress, tables meant for people and errors go to stderr
# when --json is given, so stdout stays machine-readable. (No file is bound: each print
# goes to the sys.stdout / sys.stderr of the moment.)
stdout = _Console(soft_wrap=True)
stderr = _Console(stderr=True, soft_wrap=True)


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
    """One readable paragraph for a failed call: what went wrong, each problem once (a
    field, quota or precondition violation per line when the service named them)."""
    failure = from_rpc_error(error)
    if failure.violations:
        count = len(failure.violations)
        lines = [f"{failure.code.name}: {count} problem{'s' if count > 1 else ''}"]
        lines += [
            f"  - {v.subject}: {v.description}" if v.subject else f"  - {v.description}" for v in failure.violations
        ]
    else:
        lines = [f"{failure.code.name}: {failure.message}"]
    if failure.code == grpc.StatusCode.UNAVAILABLE:
        lines.append("  is the platform running? start it with 'tsforge up'")
    if failure.code == grpc.StatusCode.INTERNAL and failure.request_id:
        lines.append(f"  request id {failure.request_id} (the service's log has the details)")
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
