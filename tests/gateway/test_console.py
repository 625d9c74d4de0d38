"""The web console's static files behind Envoy: content types, caching, gzip, the SPA
fallback, the API description and docs page, and the page shown when nothing is built."""

from __future__ import annotations

import gzip
import json

import pytest

from gateway.console import NOT_BUILT, start_console
from tests.gateway.conftest import HASHED_ASSET, INDEX_HTML, Http


def test_index_and_app_routes_get_index_html_revalidated(stack):
    for path in ("/", "/index.html", "/sessions/s1/runs", "/files"):
        reply = stack.http.request("GET", path)
        assert reply.status == 200, path
        assert reply.body.decode() == INDEX_HTML, path
        assert reply.headers["content-type"] == "text/html; charset=utf-8"
        assert reply.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_immutable_typed_and_gzipped(stack, console_dir):
    plain = stack.http.request("GET", f"/{HASHED_ASSET}")
    assert plain.status == 200 and plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.body == (console_dir / HASHED_ASSET).read_bytes() and "content-encoding" not in plain.headers

    zipped = stack.http.request("GET", f"/{HASHED_ASSET}", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["vary"]
    assert gzip.decompress(zipped.body) == plain.body and len(zipped.body) < len(plain.body) / 5

    svg = stack.http.request("GET", "/favicon.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and svg.headers["cache-control"] == "no-cache"


def test_unchanged_files_are_304_by_etag(stack):
    first = stack.http.request("GET", "/index.html")
    again = stack.http.request("GET", "/index.html", headers={"If-None-Match": first.headers["etag"]})
    assert again.status == 304 and again.body == b""


def test_a_missing_asset_is_404_not_the_app(stack):
    for path in ("/assets/gone-AAAAAAAA.js", "/favicon.ico", "/../../etc/passwd.txt"):
        reply = stack.http.request("GET", path)
        assert reply.status == 404, path
        assert b"<!doctype" not in reply.body


def test_the_api_description_and_docs_page_are_served(stack):
    described = stack.http.request("GET", "/openapi.json")
    assert described.status == 200 and described.headers["content-type"] == "application/json"
    assert json.loads(described.body)["openapi"].startswith("3.")
    docs = stack.http.request("GET", "/docs/")
    assert docs.status == 200 and b"swagger-ui" in docs.body
    for asset in ("/docs/docs.js", "/docs/vendor/swagger-ui-bundle.js", "/docs/vendor/swagger-ui.css"):
        assert stack.http.request("GET", asset).status == 200, f"{asset} (run `make setup`: docs-assets)"


def test_console_paths_get_cors_headers_for_an_allowed_origin_too(stack):
    from tests.gateway.conftest import ALLOWED_ORIGIN

    reply = stack.http.request("GET", "/openapi.json", headers={"Origin": ALLOWED_ORIGIN})
    assert reply.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


@pytest.fixture
def unbuilt_console():
    running = start_console("127.0.0.1", 0, None)
    try:
        yield Http(f"http://127.0.0.1:{running.port}")
    finally:
        running.stop()


def test_with_nothing_built_app_routes_say_how_to_build_it(unbuilt_console):
    page = unbuilt_console.request("GET", "/")
    assert page.status == 200 and page.body.decode() == NOT_BUILT and "TSFORGE_CONSOLE_DIR" in NOT_BUILT
    assert unbuilt_console.request("GET", "/assets/app-AAAAAAAA.js").status == 404
    assert unbuilt_console.request("GET", "/openapi.json").status == 200
    assert unbuilt_console.request("POST", "/").status == 405
