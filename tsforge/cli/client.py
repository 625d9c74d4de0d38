"""What every client command shares: the tsforge.client.Client it acts through, the
token, output, errors and progress bars.

Every flow with more than one call (uploads that resume, watches that re-attach, pages,
checksummed downloads) is tsforge.client's; commands here turn options into its calls
and its answers into tables.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from itertools import islice

import click
import grpc
from google.protobuf import json_format
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from tsforge.client import Client as ApiClient
from tsforge.client import TsforgeError
from tsforge.client.errors import from_rpc_error
from tsforge.core.config import Config, ConfigError, load_config
from tsforge.tabular.problem import CsvProblem


class _Console(Console):
    """A console whose tables never cut a cell short: on a terminal a long cell (a
    resource name) wraps onto the next line instead of ending in "…", and into a pipe
    or file the table is as wide as its widest row."""

    def print(self, *objects, **kwargs) -> None:
        for thing in objects:
            if isinstance(thing, Table):
                for column in thing.columns:
                    column.overflow = "fold"
        # A pipe, a file, a test's capture: no width to fit into (None: a terminal's own;
        # rich's setter takes None, its annotation says int).
        self.width = None if self.is_terminal else 100_000  # type: ignore[assignment]
        super().print(*objects, **kwargs)


# Results go to stdout; progress, tables meant for people and errors go to stderr
# when --json is given, so stdout stays machine-readable. (No file is bound: each print
# goes to the sys.stdout / sys.stderr of the moment.)
stdout = _Console(soft_wrap=True)
stderr = _Console(stderr=True, soft_wrap=True)


@dataclass
class Client:
    """A command's view of the platform: `api` (tsforge.client.Client, made on first
    use) and where output goes."""

    config: Config
    token: str | None
    json_output: bool
    _api: ApiClient | None = field(default=None, init=False, repr=False)

    @property
    def api(self) -> ApiClient:
        """The platform as this tenant. Raises click.UsageError without a token."""
        if self._api is None:
            if not self.token:
                raise click.UsageError(
                    "no token: set TSFORGE_TOKEN or pass --token (make one with 'tsforge token --tenant NAME')"
                )
            self._api = ApiClient(
                self.token, addresses=self.config.addresses, max_message_bytes=self.config.grpc_max_message_bytes
            )
        return self._api

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The call metadata for a plain unary call on one of api's stubs."""
        self.api  # noqa: B018 (raises the usage error without a token)
        return (("authorization", f"Bearer {self.token}"),)

    @property
    def people(self) -> Console:
        """Where output meant for people goes."""
        return stderr if self.json_output else stdout

    def emit_json(self, message_or_dict) -> None:
        data = message_or_dict if isinstance(message_or_dict, dict) else json_format.MessageToDict(message_or_dict)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    @contextmanager
    def transfer_bar(self, label: str) -> Iterator[Callable[[int, int], None]]:
        """A byte progress bar for an upload or download; yields its progress(done, total)."""
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
        with Progress(*columns, console=self.people, transient=self.json_output) as bar:
            task = bar.add_task(label, total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield progress


def client_options(command: Callable) -> Callable:
    """Adds --token and --json to a command and hands it a ready Client; a failed call
    (TsforgeError) or an unreadable CSV file (CsvProblem) ends the command with exit
    status 1 and the problems, each said once."""

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
            raise click.ClickException(describe_error(from_rpc_error(error))) from None
        except TsforgeError as error:
            raise click.ClickException(describe_error(error)) from None
        except CsvProblem as problem:
            raise click.ClickException(f"the CSV file cannot be read: {problem}") from None
        finally:
            client.close()

    return wrapper


def describe_error(failure: TsforgeError) -> str:
    """One readable paragraph for a failed call: what went wrong, each problem once (a
    field, quota or precondition violation per line when the service named them)."""
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


def first(items, count: int) -> tuple[list, bool]:
    """The first `count` items of an iterator over pages, and whether there are more
    (asking for one more fetches at most the next page)."""
    taken = list(islice(items, count + 1))
    return taken[:count], len(taken) > count


def human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"
