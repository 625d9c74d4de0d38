"""What the console's tests and benchmarks share: where things are, building the
console, running a Node script of web/e2e, and the whole platform behind one edge."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.plugin import running_platform
from tsforge.core.channels import client_channel
from tsforge.core.storage import LocalObjectStore
from tsforge.platform import ALL

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@dataclass
class ConsolePlatform:
    url: str  # the edge: console and API on one port, e.g. "http://127.0.0.1:PORT"
    upload_address: str
    training_address: str
    evaluation_address: str
    models_address: str
    training_stub: object
    models_stub: object
    store: LocalObjectStore


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_console() -> None:
    """web/dist from web/src: generated clients, type check, vite build (a few seconds)."""
    if not (WEB / "node_modules" / ".bin" / "vite").exists():
        pytest.fail("the console's npm packages are missing: run `make web` (npm ci in web/)")
    if not (ROOT / ".build" / "proto-deps" / "google" / "rpc").is_dir():
        pytest.fail("the proto dependencies are missing: run `make proto-deps`")
    for script in ("gen", "build"):
        done = subprocess.run(["npm", "run", "--silent", script], cwd=WEB, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"npm run {script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@contextlib.contextmanager
def running_console_platform(
    db, database_url: str, store: LocalObjectStore, parts: Sequence[str] = ALL, dist: Path = DIST
) -> Iterator[ConsolePlatform]:
    """The parts (by default all: four services, one worker, and the Envoy edge serving the
    built console and the API on one port), as `tsforge up` starts them."""
    from tsforge.models.v1 import models_service_pb2_grpc as models_grpc
    from tsforge.training.v1 import training_service_pb2_grpc as training_grpc

    with running_platform(db, database_url, store, parts, console_dir=str(dist)) as platform:
        channels = [client_channel(platform.address(name)) for name in ("training", "models")]
        try:
            yield ConsolePlatform(
                f"http://127.0.0.1:{platform.port('edge')}",
                platform.address("upload"),
                platform.address("training"),
                platform.address("evaluation"),
                platform.address("models"),
                training_grpc.TrainingServiceStub(channels[0]),
                models_grpc.ModelsServiceStub(channels[1]),
                store,
            )
        finally:
            for channel in channels:
                channel.close()


def run_node(script: Path, env: dict[str, str], timeout: float) -> dict:
    """Runs a Node script of web/e2e; its last stdout line is its JSON result."""
    done = subprocess.run(
        ["node", str(script)],
        cwd=WEB,
        env={**os.environ, "CHROMIUM": CHROMIUM, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{script.name} failed:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])
