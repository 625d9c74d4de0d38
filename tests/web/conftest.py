"""The whole platform for the console's tests, in one place: all four services, one
training worker, and one edge that serves the built console (web/dist) and the API
(grpc-web) on the same port, as the production edge does.

Until the Envoy edge lands, the edge here is the Python gateway's aiohttp application
with the console's static files in front of it; `running_edge` is the one function to
swap for Envoy (serving web/dist on the API's port).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from gateway.app import create_app
from gateway.cors import CorsPolicy
from gateway.routes import load_routes, service_modules
from gateway.upstream import Upstreams
from tests.evaluation.conftest import running_evaluation_stack
from tests.platform_fixtures import make_config
from tsforge.core.storage import LocalObjectStore

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@dataclass
class Platform:
    url: str  # the edge: console and API, e.g. "http://127.0.0.1:PORT"
    upload_address: str
    training_address: str
    evaluation_address: str
    models_address: str
    training_stub: object
    models_stub: object
    store: LocalObjectStore


def _console_files(dist: Path):
    """aiohttp middleware serving index.html and assets/ of the built console; every
    other request (grpc-web, REST) goes on to the gateway."""

    @web.middleware
    async def serve(request: web.Request, handler):
        path = request.path
        if request.method in ("GET", "HEAD") and (path in ("/", "/index.html") or path.startswith("/assets/")):
            file = (dist / ("index.html" if path in ("/", "/index.html") else path.lstrip("/"))).resolve()
            if dist.resolve() in file.parents and file.is_file():
                response = web.FileResponse(file)
                # index.html is always revalidated; hashed assets never change.
                response.headers["Cache-Control"] = (
                    "no-cache" if file.name == "index.html" else "max-age=31536000, immutable"
                )
                return response
            raise web.HTTPNotFound()
        return await handler(request)

    return serve


@contextlib.contextmanager
def running_edge(upstreams: dict[str, str], dist: Path = DIST) -> Iterator[str]:
    """The console and grpc-web on one port of 127.0.0.1; yields its base URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict = {}

    async def listen() -> None:
        routes = load_routes(service_modules(upstreams))
        app = create_app(routes, Upstreams(upstreams, 8 << 20), CorsPolicy(()), 8 << 20)
        app.middlewares.append(_console_files(dist))
        runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["runner"], state["port"] = runner, runner.addresses[0][1]

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(listen())
        except BaseException as error:  # reported below
            state["error"] = error
        started.set()
        if "error" not in state:
            loop.run_forever()
        loop.close()

    thread = threading.Thread(target=serve, name="console-edge", daemon=True)
    thread.start()
    started.wait(30)
    if "error" in state:
        raise RuntimeError(f"the edge did not start: {state['error']}")
    try:
        yield f"http://127.0.0.1:{state['port']}"
    finally:
        asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


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


@pytest.fixture(scope="session")
def console_dist() -> Path:
    build_console()
    return DIST


@contextlib.contextmanager
def running_platform(db, database_url: str, store: LocalObjectStore) -> Iterator[Platform]:
    """Upload, training (+ one worker), evaluation and models services, and the edge."""
    from services.models.server import ModelsServer
    from tsforge.core.server import client_channel
    from tsforge.models.v1 import models_service_pb2_grpc as models_grpc

    with running_evaluation_stack(db, database_url, store) as evaluation:
        training = evaluation.training
        config = make_config(
            upload_address=training.upload.address,
            training_address=training.address,
            evaluation_address=evaluation.address,
        )
        models = ModelsServer(config, db, store, "127.0.0.1:0")
        models_address = f"127.0.0.1:{models.port}"
        channel = client_channel(models_address)
        upstreams = {
            "upload": training.upload.address,
            "training": training.address,
            "evaluation": evaluation.address,
            "models": models_address,
        }
        try:
            with running_edge(upstreams) as url:
                yield Platform(
                    url,
                    training.upload.address,
                    training.address,
                    evaluation.address,
                    models_address,
                    training.stub,
                    models_grpc.ModelsServiceStub(channel),
                    store,
                )
        finally:
            channel.close()
            models.stop(grace=0)


@pytest.fixture(scope="module")
def platform(db, database_url, tmp_path_factory, console_dist) -> Iterator[Platform]:
    store = LocalObjectStore(tmp_path_factory.mktemp("console") / "objects")
    with running_platform(db, database_url, store) as running:
        yield running


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
