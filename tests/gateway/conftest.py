"""Fixtures for the edge tests: a real upload service, the real Envoy in front of it (with
the console's static file server), and a plain HTTP client.

The other services' addresses point at a port nothing listens on, so calls to them show
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

from gateway.edge import RunningEdge, start_edge
from tests.plugin import make_config, running_upload_service
from tsforge.core.config import SERVICE_PORTS, Config
from tsforge.core.storage import LocalObjectStore

ALLOWED_ORIGIN = "http://app.example"
ROOT = Path(__file__).resolve().parents[2]
JS = Path(__file__).parent / "js"
BUF = ROOT / "node_modules" / ".bin" / "buf"
HASHED_ASSET = "assets/index-B1a2c3D4.js"
INDEX_HTML = "<!doctype html><title>tsforge console</title><script src=/assets/index-B1a2c3D4.js></script>\n"


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


def edge_config(*origins: str, **settings: str) -> Config:
    """tsforge's settings for an edge on free ports, CORS for ALLOWED_ORIGIN and `origins`."""
    return make_config(
        gateway_port="0",
        gateway_admin_port="0",
        gateway_cors_origins=",".join((ALLOWED_ORIGIN, *origins)),
        **settings,
    )


def upstreams_with(**running: str) -> dict[str, str]:
    """Every service's address: the running ones given, the others a port nothing listens on."""
    down = f"127.0.0.1:{free_port()}"
    return {name: running.get(name, down) for name in SERVICE_PORTS}


@pytest.fixture(scope="session")
def console_dir(tmp_path_factory) -> Path:
    """A built console as Vite lays it out: index.html and a content-hashed asset."""
    root = tmp_path_factory.mktemp("console")
    (root / "index.html").write_text(INDEX_HTML)
    (root / "assets").mkdir()
    (root / HASHED_ASSET).write_text("export const answer = 42;\n" * 200)
    (root / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    return root


@dataclass
class Stack:
    edge: RunningEdge
    upload: object  # tests.plugin.RunningUploadService
    http: Http
    base_url: str
    page_port: int  # a free port for a test page; its origin is allowed by CORS


@pytest.fixture(scope="module")
def stack(db, tmp_path_factory, console_dir) -> Iterator[Stack]:
    """An upload service and Envoy in front of all four services (only upload runs)."""
    store = LocalObjectStore(tmp_path_factory.mktemp("gateway-objects"))
    with running_upload_service(db, store) as upload:
        page_port = free_port()
        edge = start_edge(
            edge_config(f"http://127.0.0.1:{page_port}"), upstreams_with(upload=upload.address), console_dir
        )
        base_url = f"http://127.0.0.1:{edge.port}"
        try:
            yield Stack(edge, upload, Http(base_url), base_url, page_port)
        finally:
            edge.stop()


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
