"""The console's package: the built console and the whole platform behind the Envoy edge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.helpers import DIST, ConsolePlatform, build_console, running_console_platform
from tsforge.core.storage import LocalObjectStore


@pytest.fixture(scope="session")
def console_dist() -> Path:
    build_console()
    return DIST


# One platform for the package: each test signs in as a tenant of its own, and starting
# every service, a worker and the edge again per module would cost more than its tests.
@pytest.fixture(scope="package")
def platform(db, database_url, tmp_path_factory, console_dist) -> Iterator[ConsolePlatform]:
    store = LocalObjectStore(tmp_path_factory.mktemp("console") / "objects")
    with running_console_platform(db, database_url, store) as running:
        yield running
