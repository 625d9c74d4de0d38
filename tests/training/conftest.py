"""The training package's stack: upload and training services and one spawned worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.plugin import TrainingStack, running_training_stack
from tsforge.core.storage import LocalObjectStore


@pytest.fixture(scope="module")
def training_stack(db, database_url, tmp_path_factory) -> Iterator[TrainingStack]:
    """One stack with one worker for a module's tests (starting a worker costs seconds)."""
    store = LocalObjectStore(tmp_path_factory.mktemp("data") / "objects")
    with running_training_stack(db, database_url, store) as stack:
        yield stack
