"""`tsforge upload` and `tsforge files`: getting CSV files in and looking at them."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import click
import grpc
from google.protobuf import json_format
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from rich.table import Table

from tsforge.cli.client import Client, client_options, human_bytes, precondition_type, save_download
from tsforge.common.v1 import common_pb2
from tsforge.upload.v1 import upload_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc

# A whole S3 part per chunk (5 MiB), so the service sends each straight to the store.
CHUNK_BYTES = 5 << 20
ROLES = {"input": common_pb2.FEATURE_ROLE_INPUT, "output": common_pb2.FEATURE_ROLE_OUTPUT}
ROLE_NAMES = {v: k for k, v in ROLES.items()}
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def upload_file(
    stub: pb_grpc.UploadServiceStub,
    metadata,
    path: Path,
    role: int,
    display_name: str = "",
    description: str = "",
    progress: Progress | None = None,
    retries: int = 5,
) -> pb.File:
    """Uploads `path` with the resumable flow, picking up an unfinished upload of the
    same bytes if there is one, and riding out dropped connections."""
    size = path.stat().st_size
    sha256 = sha256_of(path)

    def create() -> pb.Upload:
        request = pb.CreateUploadRequest(
            upload=pb.Upload(
                file_name=path.name,
                role=role,
                display_name=display_name,
                description=description,
                declared_size_bytes=size,
                declared_sha256=sha256,
            )
        )
        return stub.CreateUpload(request, metadata=metadata).upload

    upload = _find_unfinished(stub, metadata, path.name, size, sha256) or create()
    task = progress.add_task(path.name, total=size, completed=upload.received_bytes) if progress else None
    offset = upload.received_bytes
    failures = restarts = 0
    with path.open("rb") as handle:
        while offset < size:
            handle.seek(offset)
            data = handle.read(CHUNK_BYTES)
            try:
                upload = stub.WriteUploadChunk(
                    pb.WriteUploadChunkRequest(name=upload.name, offset=offset, data=data),
                    metadata=metadata,
                    timeout=60,
                ).upload
                failures = 0
            except grpc.RpcError as error:
                if precondition_type(error) == "UPLOAD_LOST" and restarts < 1:
                    # The store lost the parts (and the service dropped the upload): again from 0.
                    restarts += 1
                    upload = create()
                elif error.code() not in RETRYABLE + (grpc.StatusCode.FAILED_PRECONDITION,) or failures >= retries:
                    raise
                else:
                    failures += 1
                    time.sleep(min(2**failures * 0.2, 5))
                    # The chunk may or may not have landed: ask the service where to go on.
                    upload = stub.GetUpload(pb.GetUploadRequest(name=upload.name), metadata=metadata).upload
            offset = upload.received_bytes
            if progress:
                progress.update(task, completed=offset)
    request = pb.CompleteUploadRequest(name=upload.name, sha256=sha256)
    try:
        return stub.CompleteUpload(request, metadata=metadata).file
    except grpc.RpcError as error:
        if precondition_type(error) != "UPLOAD_LOST" or restarts:
            raise
    # Lost at the very end: once more from the start.
    return upload_file(stub, metadata, path, role, display_name, description, progress, retries)


def _find_unfinished(stub, metadata, file_name: str, size: int, sha256: str) -> pb.Upload | None:
    token = ""
    while True:
        page = stub.ListUploads(pb.ListUploadsRequest(page_size=200, page_token=token), metadata=metadata)
        for upload in page.uploads:
            if (upload.declared_sha256, upload.declared_size_bytes, upload.file_name) == (sha256, size, file_name):
                return upload
        token = page.next_page_token
        if not token:
            return None


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
    stub = pb_grpc.UploadServiceStub(client.channel("upload"))
    if abort:
        found = _find_unfinished(stub, client.metadata(), path.name, path.stat().st_size, sha256_of(path))
        if found is None:
            raise click.ClickException(f"no unfinished upload of {path.name}")
        stub.AbortUpload(pb.AbortUploadRequest(name=found.name), metadata=client.metadata())
        client.people.print(f"dropped {found.name} ({human_bytes(found.received_bytes)} received)")
        return
    if role is None:
        raise click.UsageError("--role input|output is required")
    columns = (*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        with Progress(*columns, console=client.people, transient=client.json_output) as progress:
            file = upload_file(stub, client.metadata(), path, ROLES[role], display_name, description, progress)
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
    """List your unfinished uploads (an interrupted `tsforge upload` resumes them)."""
    stub = pb_grpc.UploadServiceStub(client.channel("upload"))
    if abort_name:
        stub.AbortUpload(pb.AbortUploadRequest(name=abort_name), metadata=client.metadata())
        client.people.print(f"dropped {abort_name}")
        return
    found, token = [], ""
    while True:
        page = stub.ListUploads(pb.ListUploadsRequest(page_size=200, page_token=token), metadata=client.metadata())
        found.extend(page.uploads)
        token = page.next_page_token
        if not token:
            break
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
    stub = pb_grpc.UploadServiceStub(client.channel("upload"))
    found, token = [], ""
    while True:
        page = stub.ListFiles(
            pb.ListFilesRequest(page_size=page_size, page_token=token, role=ROLES.get(role, 0)),
            metadata=client.metadata(),
        )
        found.extend(page.files)
        token = page.next_page_token
        if not token or not all_pages:
            break
    if client.json_output:
        client.emit_json({"files": [json_format.MessageToDict(f) for f in found], "nextPageToken": token})
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
    if token:
        client.people.print("more files: add --all")


@click.group()
def file() -> None:
    """Act on one file: show, preview, download, delete."""


@file.command("show")
@click.argument("name")
@client_options
def show_file(client: Client, name: str) -> None:
    """Show one file and its profile."""
    stub = pb_grpc.UploadServiceStub(client.channel("upload"))
    file = stub.GetFile(pb.GetFileRequest(name=name), metadata=client.metadata()).file
    client.emit_json(file) if client.json_output else print_profile(client.people, file)


@file.command("preview")
@click.argument("name")
@click.option("--rows", default=10, show_default=True, help="How many rows.")
@client_options
def preview_file(client: Client, name: str, rows: int) -> None:
    """Show the first rows of a file, parsed."""
    stub = pb_grpc.UploadServiceStub(client.channel("upload"))
    preview = stub.PreviewFile(pb.PreviewFileRequest(name=name, row_count=rows), metadata=client.metadata())
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
    stub = pb_grpc.UploadServiceStub(client.channel("upload"))
    header = save_download(
        client,
        stub.DownloadFile(pb.DownloadFileRequest(name=name), metadata=client.metadata()),
        destination,
        label=name,
    )
    client.people.print(f"wrote {human_bytes(header.size_bytes)} to {destination}")


@file.command("delete")
@click.argument("name")
@client_options
def delete_file(client: Client, name: str) -> None:
    """Delete a file and its bytes."""
    stub = pb_grpc.UploadServiceStub(client.channel("upload"))
    stub.DeleteFile(pb.DeleteFileRequest(name=name), metadata=client.metadata())
    client.people.print(f"deleted {name}")
