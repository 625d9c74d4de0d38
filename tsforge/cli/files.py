"""`tsforge upload` and `tsforge files`: getting CSV files in and looking at them."""

from __future__ import annotations

from pathlib import Path

import click
from google.protobuf import json_format
from rich.table import Table

from tsforge.cli.client import Client, client_options, first, human_bytes
from tsforge.client.client import ROLES
from tsforge.upload.v1 import upload_service_pb2 as pb

ROLE_NAMES = {v: k for k, v in ROLES.items()}


def print_profile(console, file: pb.File) -> None:
    p = file.profile
    console.print(
        f"[bold]{file.name}[/bold]  {file.display_name} ({ROLE_NAMES.get(file.role, '?')}), "
        f"{human_bytes(file.size_bytes)}, sha256 {file.sha256[:16]}…"
    )
    console.print(
        f"  {p.row_count} rows from {p.first_time.ToJsonString()} to {p.last_time.ToJsonString()}; "
        f"step median {p.median_step.ToTimedelta()}, min {p.min_step.ToTimedelta()}; "
        f"{p.gap_count} gaps, {p.duplicate_timestamp_count} duplicate and "
        f"{p.out_of_order_count} out-of-order timestamps"
    )
    console.print(
        f"  separator {p.separator!r}, decimal {p.decimal_mark!r}, {p.encoding}, "
        f"timestamp column {p.timestamp_column!r} as {p.timestamp_format!r}"
    )
    table = Table("column", "numeric", "missing", "min", "max")
    for c in p.columns:
        table.add_row(
            c.name,
            f"{c.numeric_share:.1%}",
            str(c.missing_count),
            f"{c.min:g}" if c.HasField("min") else "-",
            f"{c.max:g}" if c.HasField("max") else "-",
        )
    console.print(table)


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--role", type=click.Choice(sorted(ROLES)), help="Input feature or output to predict (required).")
@click.option("--display-name", default="", help="Feature name shown to users (default: the file name).")
@click.option("--description", default="", help="Free text.")
@click.option("--abort", is_flag=True, help="Drop the unfinished upload of this file instead (see `tsforge uploads`).")
@client_options
def upload(client: Client, path: Path, role: str | None, display_name: str, description: str, abort: bool) -> None:
    """Upload a CSV file, resuming an interrupted upload of the same file, and print its profile.

    An upload the object store lost (it was restarted) starts again by itself; --abort
    drops the unfinished upload of PATH instead of continuing it.
    """
    if abort:
        found = client.api.unfinished_upload(path)
        if found is None:
            raise click.ClickException(f"no unfinished upload of {path.name}")
        client.api.abort_upload(found.name)
        client.people.print(f"dropped {found.name} ({human_bytes(found.received_bytes)} received)")
        return
    if role is None:
        raise click.UsageError("--role input|output is required")
    try:
        with client.transfer_bar(path.name) as progress:
            file = client.api.upload(path, role, display_name=display_name, description=description, progress=progress)
    except KeyboardInterrupt:
        raise click.ClickException("interrupted; run the same command again to resume where it stopped") from None
    if client.json_output:
        client.emit_json(file)
    else:
        print_profile(client.people, file)


@click.command()
@click.option("--abort", "abort_name", metavar="UPLOAD", help="Drop this unfinished upload (uploads/ID).")
@client_options
def uploads(client: Client, abort_name: str | None) -> None:
    """List your unfinished uploads (an interrupted `tsforge upload` resumes them), or drop one with --abort."""
    if abort_name:
        client.api.abort_upload(abort_name)
        client.people.print(f"dropped {abort_name}")
        return
    found = list(client.api.unfinished_uploads())
    if client.json_output:
        client.emit_json({"uploads": [json_format.MessageToDict(u) for u in found]})
        return
    table = Table("name", "file", "received", "of", "last written")
    for u in found:
        declared = human_bytes(u.declared_size_bytes) if u.declared_size_bytes else "?"
        table.add_row(u.name, u.file_name, human_bytes(u.received_bytes), declared, u.update_time.ToJsonString())
    client.people.print(table if found else "no unfinished uploads")


@click.command()
@click.option("--role", type=click.Choice(sorted(ROLES)), help="Only files of this role.")
@click.option("--page-size", default=50, show_default=True, help="Files per request.")
@click.option("--all", "all_pages", is_flag=True, help="List every page, not just the first.")
@client_options
def files(client: Client, role: str | None, page_size: int, all_pages: bool) -> None:
    """List your files, newest first."""
    listed = client.api.files(role=role, page_size=page_size)
    found, more = (list(listed), False) if all_pages else first(listed, page_size)
    if client.json_output:
        client.emit_json({"files": [json_format.MessageToDict(f) for f in found], "more": more})
        return
    table = Table("name", "display name", "role", "size", "rows", "first", "last")
    for f in found:
        table.add_row(
            f.name,
            f.display_name,
            ROLE_NAMES.get(f.role, "?"),
            human_bytes(f.size_bytes),
            str(f.profile.row_count),
            f.profile.first_time.ToJsonString(),
            f.profile.last_time.ToJsonString(),
        )
    client.people.print(table)
    if more:
        client.people.print(f"more files: add --all (or raise --page-size from {page_size})")


@click.group()
def file() -> None:
    """Act on one file: show, preview, download, delete."""


@file.command("show")
@click.argument("name")
@client_options
def show_file(client: Client, name: str) -> None:
    """Show one file and its profile."""
    file = client.api.file(name)
    client.emit_json(file) if client.json_output else print_profile(client.people, file)


@file.command("preview")
@click.argument("name")
@click.option("--rows", default=10, show_default=True, help="How many rows.")
@client_options
def preview_file(client: Client, name: str, rows: int) -> None:
    """Show the first rows of a file, parsed."""
    request = pb.PreviewFileRequest(name=name, row_count=rows)
    preview = client.api.call(client.api.uploads.PreviewFile, request)
    if client.json_output:
        client.emit_json(preview)
        return
    table = Table("time", *preview.columns)
    for row in preview.rows:
        table.add_row(row.time.ToJsonString(), *(f"{v:g}" for v in row.values))
    client.people.print(table)


@file.command("download")
@click.argument("name")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@client_options
def download_file(client: Client, name: str, destination: Path) -> None:
    """Download a file's bytes to DESTINATION and check its SHA-256."""
    try:
        with client.transfer_bar(name) as progress:
            header = client.api.download_file(name, destination, progress=progress)
    except ValueError as corrupted:
        raise click.ClickException(str(corrupted)) from None
    client.people.print(f"wrote {human_bytes(header.size_bytes)} to {destination}")


@file.command("delete")
@click.argument("name")
@client_options
def delete_file(client: Client, name: str) -> None:
    """Delete a file and its bytes."""
    client.api.delete_file(name)
    client.people.print(f"deleted {name}")
