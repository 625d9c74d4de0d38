"""The console's platform outside pytest, for development and the bench: a fresh test
database, all four services, a worker and the edge; prints the console's URL and a
sign-in link, then serves until interrupted.

    PYTHONPATH=. .venv/bin/python -m tests.web.serve [--ready-file PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

from tests.plugin import ADMIN_URL, new_tenant
from tests.web.helpers import build_console, running_console_platform
from tsforge.core.db import Database
from tsforge.core.storage import LocalObjectStore


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new database on the test PostgreSQL server, dropped afterwards; its URL."""
    name = f"tsforge_web_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def serving(build: bool = True):
    """(platform, tenant) on a fresh database and object store, until the block ends."""
    if build:
        build_console()
    with fresh_database() as url, tempfile.TemporaryDirectory(prefix="tsforge-web-") as data:
        db = Database(url)
        try:
            with running_console_platform(db, url, LocalObjectStore(Path(data) / "objects")) as platform:
                yield platform, new_tenant()
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ready-file", help="write {url, token, upload_address} as JSON here once serving")
    parser.add_argument("--no-build", action="store_true", help="serve web/dist as it is")
    args = parser.parse_args()
    with serving(build=not args.no_build) as (platform, tenant):
        info = {
            "url": platform.url,
            "token": tenant.token,
            "more_tokens": [new_tenant().token for _ in range(8)],  # a tenant of its own per dev run
            "upload_address": platform.upload_address,
        }
        if args.ready_file:
            Path(args.ready_file).write_text(json.dumps(info))
        print(f"console: {platform.url}/#token={tenant.token}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
