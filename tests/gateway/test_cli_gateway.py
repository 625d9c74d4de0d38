"""`tsforge gateway` as a user runs it: a process in front of a running service."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.gateway.conftest import Http, free_port


def test_tsforge_gateway_serves_rest_and_stops_on_sigint(stack, tenant):
    port = free_port()
    env = {
        **os.environ,
        "TSFORGE_UPLOAD_ADDRESS": stack.upload.address,
        "TSFORGE_GATEWAY_PORT": str(port),
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
        lines = [process.stdout.readline() for _ in range(3)]  # a log line, then what it prints
        assert any(f"gateway on http://127.0.0.1:{port}" in line for line in lines), lines
        reply = Http(f"http://127.0.0.1:{port}").request(
            "GET",
            "/v1/files?page_size=1",
            headers={"Authorization": f"Bearer {tenant.token}", "Origin": "http://localhost:5173"},
        )
        assert reply.status == 200 and reply.headers["access-control-allow-origin"] == "http://localhost:5173"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
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
