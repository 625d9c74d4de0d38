"""Fixtures for the gateway tests: a real upload service, a gateway in front of it, and a
plain HTTP client.

The training service's address points at a port nothing listens on, so calls to it show
what a client sees when a service is down.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.server import GatewaySettings, RunningGateway, start_gateway
from tests.plugin import running_upload_service
from tsforge.core.storage import LocalObjectStore

ALLOWED_ORIGIN = "http://app.example"
ROOT = Path(__file__).resolve().parents[2]
JS = Path(__file__).parent / "js"
BUF = ROOT / "node_modules" / ".bin" / "buf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class HttpReply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)


class Http:
    """A plain HTTP client (urllib, no proxies) for one base URL."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def open(
        self, method: str, path: str, body: bytes | dict | list | None = None, headers: dict[str, str] | None = None
    ):
        """The raw urllib response (also for HTTP errors), for reading a body as it streams."""
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers or {})
        if isinstance(body, (dict, list)):
            request.add_header("Content-Type", "application/json")
        try:
            return self._opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            return error

    def request(self, method: str, path: str, body=None, headers=None) -> HttpReply:
        with self.open(method, path, body, headers) as response:
            return HttpReply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())


@dataclass
class Stack:
    gateway: RunningGateway
    upload: object  # tests.plugin.RunningUploadService
    http: Http
    base_url: str
    page_port: int  # a free port for a test page; its origin is allowed by CORS


def gateway_settings(upstreams: dict[str, str], *origins: str) -> GatewaySettings:
    return GatewaySettings(
        host="127.0.0.1",
        port=0,
        upstreams=upstreams,
        cors_origins=(ALLOWED_ORIGIN, *origins),
        shutdown_grace_seconds=0.5,
    )


@pytest.fixture(scope="module")
def stack(db, tmp_path_factory) -> Iterator[Stack]:
    """An upload service and a gateway in front of all four services (only upload runs)."""
    store = LocalObjectStore(tmp_path_factory.mktemp("gateway-objects"))
    with running_upload_service(db, store) as upload:
        down = f"127.0.0.1:{free_port()}"
        upstreams = {"upload": upload.address, "training": down, "evaluation": down, "models": down}
        page_port = free_port()
        gateway = start_gateway(gateway_settings(upstreams, f"http://127.0.0.1:{page_port}"))
        base_url = f"http://127.0.0.1:{gateway.port}"
        try:
            yield Stack(gateway, upload, Http(base_url), base_url, page_port)
        finally:
            gateway.stop()


@pytest.fixture(scope="session")
def generated_es() -> Path:
    """protoc-gen-es output for protos/, regenerated once per test session (about two seconds)."""
    if not (ROOT / ".build" / "proto-deps" / "google" / "api").is_dir() or not BUF.exists():
        pytest.fail("the JavaScript toolchain is not set up: run `make setup` (npm packages, proto deps)")
    subprocess.run(
        [str(BUF), "generate", "--template", str(JS / "buf.gen.yaml"), "--path", "protos/tsforge"],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    return ROOT / ".build" / "es"


def run_js(mode: str, env: dict[str, str], scenario: str = "scenario.mjs", timeout: float = 90) -> dict:
    """Runs a scenario of js/ with run_clients.mjs in "node" or "browser"; its JSON result."""
    completed = subprocess.run(
        ["node", str(JS / "run_clients.mjs"), mode, scenario],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])
