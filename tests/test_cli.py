"""The `tsforge` command as a user runs it: against real servers, and `tsforge up`
end to end on its embedded defaults."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jwt
import psutil
from click.testing import CliRunner

from tests.plugin import JWT_SECRET, running_upload_service
from tests.upload.helpers import csv_bytes
from tsforge.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


def _env(service, tenant) -> dict[str, str]:
    return {"TSFORGE_UPLOAD_ADDRESS": service.address, "TSFORGE_TOKEN": tenant.token, "TSFORGE_JWT_SECRET": JWT_SECRET}


def test_upload_then_files_list_and_show_with_json(db, local_store, tenant, tmp_path):
    path = tmp_path / "load.csv"
    path.write_bytes(csv_bytes(120))
    runner = CliRunner()
    with running_upload_service(db, local_store) as service:
        env = _env(service, tenant)
        result = runner.invoke(cli, ["upload", str(path), "--role", "output", "--json"], env=env)
        assert result.exit_code == 0, result.output
        uploaded = json.loads(result.stdout)
        assert uploaded["profile"]["rowCount"] == "120" and uploaded["role"] == "FEATURE_ROLE_OUTPUT"

        listed = json.loads(runner.invoke(cli, ["files", "--json"], env=env).stdout)
        assert [f["name"] for f in listed["files"]] == [uploaded["name"]]
        # Into a pipe the table is whole: seven columns, and no name cut short ("files/161…").
        table = runner.invoke(cli, ["files"], env=env).output
        assert uploaded["name"] in table and "…" not in table, table
        shown = runner.invoke(cli, ["file", "show", uploaded["name"]], env=env)
        assert shown.exit_code == 0 and "120 rows" in shown.output and "temperature" in shown.output

        target = tmp_path / "back.csv"
        downloaded = runner.invoke(cli, ["file", "download", uploaded["name"], str(target)], env=env)
        assert downloaded.exit_code == 0, downloaded.output
        assert target.read_bytes() == path.read_bytes()


def test_client_errors_are_readable(db, local_store, tenant, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a;b\n1;2\n")
    with running_upload_service(db, local_store) as service:
        result = CliRunner().invoke(cli, ["upload", str(path), "--role", "input"], env=_env(service, tenant))
        assert result.exit_code == 1
        assert "INVALID_ARGUMENT" in result.output and "- file:" in result.output
        problem = next(line for line in result.output.splitlines() if line.strip().startswith("- file:"))
        assert result.output.count(problem.split(": ", 1)[1]) == 1  # each problem said once
        result = CliRunner().invoke(cli, ["files"], env={**_env(service, tenant), "TSFORGE_TOKEN": ""})
        assert result.exit_code == 2 and "tsforge token --tenant" in result.output


def test_token_names_the_tenant():
    result = CliRunner().invoke(cli, ["token", "--tenant", "acme"], env={"TSFORGE_JWT_SECRET": JWT_SECRET})
    assert result.exit_code == 0
    assert jwt.decode(result.stdout.strip(), JWT_SECRET, algorithms=["HS256"])["sub"] == "acme"
    bad = CliRunner().invoke(cli, ["token", "--tenant", "no/slash"])
    assert bad.exit_code == 1 and "tenant must be" in bad.output


def test_up_starts_on_embedded_defaults_shows_a_profile_and_stops_on_sigint(tmp_path):
    """The README's first command: no database URL, no S3, just a data directory."""
    port, gateway_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "TSFORGE_DATA_DIR": str(tmp_path / "data"),
        "TSFORGE_UPLOAD_PORT": str(port),
        "TSFORGE_TRAINING_PORT": str(_free_port()),
        "TSFORGE_GATEWAY_PORT": str(gateway_port),
        "TSFORGE_GATEWAY_ADMIN_PORT": str(_free_port()),
    }
    for key in ("TSFORGE_DATABASE_URL", "TSFORGE_S3_ENDPOINT", "TSFORGE_UPLOAD_ADDRESS", "TSFORGE_TRAINING_ADDRESS"):
        env.pop(key, None)
    env.pop("TSFORGE_LOG_JSON", None)  # the default: JSON lines
    logs = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tsforge.cli", "up", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=logs,
        text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "press Ctrl-C" in line:
                break
        text = "".join(output)
        assert "press Ctrl-C" in text, text
        assert f"upload     grpc://127.0.0.1:{port}" in text
        assert "1344 rows from 2000-06-05T00:00:00Z" in text and "load_mw" in text
        # The edge (Envoy) answered before the address was printed.
        assert f"gateway    http://127.0.0.1:{gateway_port}" in text
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{gateway_port}/healthz", timeout=10) as health:
            assert health.read() == b"ok\n"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        logs.close()
    assert not _postgres_running(tmp_path / "data" / "postgres")
    # One log format for every process `tsforge up` starts (the services, the training
    # worker, the edge's supervisor): JSON lines, as documented. TensorFlow's native
    # start-up lines (absl, written before Python can configure it) are the exception.
    loggers = set()
    for line in (tmp_path / "stderr.log").read_text().splitlines():
        if not line.strip() or _NATIVE_TENSORFLOW.match(line):
            continue
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(record), line
        loggers.add(record["logger"])
    assert {"tsforge.core.server", "services.training.worker", "gateway.envoy_process"} <= loggers, loggers


_NATIVE_TENSORFLOW = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IWEF]\d{4} \d\d:\d\d:\d\d)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_running(pgdata) -> bool:
    """Whether any process still has the data directory open (a postmaster or a backend)."""
    for process in psutil.process_iter(["cmdline"]):
        if str(pgdata) in " ".join(process.info["cmdline"] or ()):
            return True
    return (pgdata / "postmaster.pid").exists()


def _start_up(env: dict, *args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tsforge.cli", "up", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            break
        output.append(line)
        if "press Ctrl-C" in line:
            break
    return process, "".join(output)


def test_up_stops_its_embedded_postgres_on_sigterm_even_after_a_crashed_run(tmp_path):
    env = {**os.environ, "TSFORGE_DATA_DIR": str(tmp_path / "data"), "TSFORGE_UPLOAD_PORT": str(_free_port())}
    for key in ("TSFORGE_DATABASE_URL", "TSFORGE_S3_ENDPOINT", "TSFORGE_UPLOAD_ADDRESS"):
        env.pop(key, None)
    pgdata = tmp_path / "data" / "postgres"
    crashed, text = _start_up(env, "--only", "upload")
    try:
        assert "press Ctrl-C" in text, text
        crashed.kill()  # no clean-up at all: its PostgreSQL is left running
        crashed.wait()
        assert _postgres_running(pgdata)
        again, text = _start_up(env, "--only", "upload")  # adopts the running server
        assert "press Ctrl-C" in text, text
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=60) == 0
        assert not _postgres_running(pgdata)
    finally:
        for process in (crashed, locals().get("again")):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        for process in psutil.process_iter(["cmdline"]):  # never leave a server behind
            if str(pgdata) in " ".join(process.info["cmdline"] or ()):
                process.kill()


def test_migrate_brings_every_service_schema_up_to_date(database_url):
    result = CliRunner().invoke(cli, ["migrate"], env={"TSFORGE_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    for service in ("upload", "training", "evaluation", "models"):
        # The newest revision file of the service (0001_initial.py, 0002_....py, ...).
        newest = max(path.name[:4] for path in (ROOT / "services" / service / "migrations" / "versions").glob("0*.py"))
        assert f"{service} schema at version {newest}" in result.output
