"""The web console's static file server: what Envoy sends every path that is not an API.

- `/openapi.json`: the REST surface (gateway/openapi.json); `/docs/`: Swagger UI over it
  (its files copied from npm's swagger-ui-dist into gateway/docs/vendor/ at setup).
- Any other path: a file of the console directory (the built single-page app). A path
  whose last segment has no extension and names no file is a route of the app: it gets
  index.html (the SPA fallback); a missing file with an extension is 404.
- Caching: file names with a content hash (`index-B1a2c3D4.js`, as Vite writes them)
  are immutable for a year; everything else, index.html above all, is `no-cache`
  (revalidated by ETag, answered 304 when unchanged).
- gzip when the client takes it and the type compresses: a `.gz` file beside the
  original when the build made one, else compressed once and kept in memory.

With no console built, app routes get a short page saying how to build it. A `/v1/`
path reaches this server only when no REST binding took it (Envoy's transcoder rewrites
those): it is answered as the API would, google.rpc.Status JSON, 405 with Allow when
the path has bindings for other verbs, else 404.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from gateway.descriptors import descriptor_set_from_modules, services, template_regex

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
OPENAPI = PACKAGE / "openapi.json"
DOCS = PACKAGE / "docs"
DEFAULT_CONSOLE_DIR = PACKAGE.parent / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Vite/Rollup's `[name]-[hash].[ext]`: a hash of 8 or more url-safe base64 characters.
_HASHED = re.compile(r".+[.-][A-Za-z0-9_-]{8,}\.[A-Za-z0-9]+")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".wasm": "application/wasm",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".ico": "image/x-icon",
    ".png": "image/png",
}
_COMPRESSIBLE = ("text/", "application/json", "application/manifest+json", "image/svg+xml", "application/wasm")
_MIN_GZIP_BYTES = 512
_GZIP_CACHE_BYTES = 64 << 20
NOT_BUILT = """<!doctype html>
<html lang="en"><meta charset="utf-8"><title>tsforge</title>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>tsforge</h1>
<p>The web console is not built. Build it into <code>web/dist</code> (see the README),
or point <code>TSFORGE_CONSOLE_DIR</code> at a built copy, and reload.</p>
<p>The API is here already: <a href="/docs/">REST API docs</a>, <code>/v1/...</code> (REST/JSON)
and grpc-web on this port.</p>
</body></html>
"""


@dataclass(frozen=True)
class _Entity:
    body: bytes
    content_type: str
    etag: str
    cache_control: str
    encoding: str | None = None


class StaticFiles:
    """Resolves request paths to files and builds the responses (no I/O beyond reading files)."""

    def __init__(self, console_dir: Path | None):
        self.console_dir = console_dir.resolve() if console_dir is not None else None
        self._gzipped: dict[tuple[Path, int, int], bytes] = {}
        self._gzipped_bytes = 0

    @property
    def built(self) -> bool:
        return self.console_dir is not None and (self.console_dir / "index.html").is_file()

    def resolve(self, path: str) -> tuple[Path | None, bool]:
        """(the file to serve or None, whether it is the SPA fallback)."""
        if path == "/openapi.json":
            return OPENAPI, False
        if path == "/docs/" or path.startswith("/docs/"):
            return _inside(DOCS, path.removeprefix("/docs/") or "index.html"), False
        if self.console_dir is None:
            return None, _is_app_route(path)
        found = _inside(self.console_dir, path.lstrip("/") or "index.html")
        if found is not None:
            return found, False
        if _is_app_route(path):
            index = self.console_dir / "index.html"
            return (index if index.is_file() else None), True
        return None, False

    def entity(self, file: Path, accepts_gzip: bool) -> _Entity:
        stat = file.stat()
        content_type = (
            _TYPES.get(file.suffix.lower()) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        cache = IMMUTABLE if _HASHED.fullmatch(file.name) else REVALIDATE
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        compressible = content_type.startswith(_COMPRESSIBLE) and stat.st_size >= _MIN_GZIP_BYTES
        if accepts_gzip and compressible:
            return _Entity(self._gzip(file, stat), content_type, etag[:-1] + '-gz"', cache, "gzip")
        return _Entity(file.read_bytes(), content_type, etag, cache)

    def _gzip(self, file: Path, stat) -> bytes:
        beside = file.with_name(file.name + ".gz")
        if beside.is_file() and beside.stat().st_mtime_ns >= stat.st_mtime_ns:
            return beside.read_bytes()
        key = (file, stat.st_size, stat.st_mtime_ns)
        if key not in self._gzipped:
            body = gzip.compress(file.read_bytes(), compresslevel=6, mtime=0)
            if self._gzipped_bytes + len(body) > _GZIP_CACHE_BYTES:
                self._gzipped.clear()
                self._gzipped_bytes = 0
            self._gzipped[key] = body
            self._gzipped_bytes += len(body)
        return self._gzipped[key]


def _inside(root: Path, relative: str) -> Path | None:
    """The regular file `relative` names under `root`, never outside it."""
    if "\x00" in relative:
        return None
    candidate = (root / relative).resolve()
    if candidate != root and root not in candidate.parents:
        return None
    return candidate if candidate.is_file() else None


def _is_app_route(path: str) -> bool:
    return "." not in path.rsplit("/", 1)[-1]


def create_app(files: StaticFiles) -> web.Application:
    rest = RestPaths()

    async def serve(request: web.Request) -> web.StreamResponse:
        if request.path.startswith(RestPaths.API_PREFIX):
            return rest.error(request)
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, text="the console serves GET and HEAD\n", headers={"Allow": "GET, HEAD"})
        path = request.path
        if path == "/docs":
            raise web.HTTPMovedPermanently("/docs/")
        file, fallback = files.resolve(path)
        if file is None:
            if fallback and not files.built:
                return web.Response(text=NOT_BUILT, content_type="text/html", headers={"Cache-Control": REVALIDATE})
            return web.Response(status=404, text=f"no file {path}\n", headers={"Cache-Control": REVALIDATE})
        accepts_gzip = "gzip" in request.headers.get("Accept-Encoding", "").lower()
        entity = await asyncio.to_thread(files.entity, file, accepts_gzip)
        headers = {
            "Content-Type": entity.content_type,
            "Cache-Control": REVALIDATE if fallback else entity.cache_control,
            "ETag": entity.etag,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if entity.encoding:
            headers["Content-Encoding"] = entity.encoding
        if entity.etag in _etags(request.headers.get("If-None-Match", "")):
            return web.Response(status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
        return web.Response(body=b"" if request.method == "HEAD" else entity.body, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", serve)
    return app


class RestPaths:
    """The REST bindings' path patterns, for answering paths no binding took."""

    API_PREFIX = "/v1/"

    def __init__(self):
        verbs: dict[str, set[str]] = {}
        for service in services(descriptor_set_from_modules()):
            for rpc in service.rpcs:
                for binding in rpc.bindings:
                    verbs.setdefault(template_regex(binding.template), set()).add(binding.verb)
        self._patterns = [(re.compile(regex), sorted(allowed)) for regex, allowed in verbs.items()]

    def allowed(self, path: str) -> list[str]:
        return sorted({verb for pattern, verbs in self._patterns if pattern.fullmatch(path) for verb in verbs})

    def error(self, request: web.Request) -> web.Response:
        allowed = self.allowed(request.path)
        if allowed:
            status, code, message = 405, 12, f"{request.method} {request.path}: this path takes {', '.join(allowed)}"
        else:
            status, code, message = 404, 5, f"no REST method has the path {request.path}"
        headers = {"Allow": ", ".join(allowed)} if allowed else {}
        body = json.dumps({"code": code, "message": message, "details": []}) + "\n"
        return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


class RunningConsole:
    """The static file server on its own thread and event loop until stop()."""

    def __init__(self, host: str, port: int, console_dir: Path | None):
        self.host, self.port = host, port
        self.files = StaticFiles(console_dir)
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="console", daemon=True)

    def start(self) -> RunningConsole:
        """Returns once the port is bound. Raises RuntimeError when it cannot listen."""
        self._thread.start()
        self._ready.wait(30)
        if self._failure is not None or not self._ready.is_set():
            raise RuntimeError(f"the console server cannot listen on {self.host}:{self.port}: {self._failure}")
        where = self.files.console_dir if self.files.built else "nothing built (a page says how to build it)"
        log.info("console static files on port %d: %s", self.port, where)
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._listen())
        except BaseException as error:  # reported to start()'s caller
            self._failure = error
            self._ready.set()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _listen(self) -> None:
        self._runner = web.AppRunner(create_app(self.files), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._runner is None or not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        try:
            future.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


def start_console(host: str, port: int, console_dir: Path | None) -> RunningConsole:
    """A started static file server for `console_dir` (None or unbuilt: the not-built page)."""
    return RunningConsole(host, port, console_dir).start()


def default_console_dir(setting: Path | None) -> Path | None:
    """TSFORGE_CONSOLE_DIR, else the repository's web/dist when it exists."""
    if setting is not None:
        return setting
    return DEFAULT_CONSOLE_DIR if DEFAULT_CONSOLE_DIR.is_dir() else None
