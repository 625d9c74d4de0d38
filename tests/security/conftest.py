"""One running platform (all four services, one worker) for every security test, and an
owner tenant holding one resource of every kind: an unfinished upload, two files, a
session, a READY dataset, a SUCCEEDED run of a linear model, an evaluation and a
registered model with version 1 aliased "production", and two API keys (one revoked)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from tests.evaluation.helpers import evaluate
from tests.models.helpers import LINEAR, register, start_run
from tests.plugin import Tenant, new_tenant, running_models_stack
from tests.security.calls import Caller
from tests.training.helpers import upload_pair
from tests.upload.helpers import create_upload
from tsforge.core.storage import LocalObjectStore
from tsforge.models.v1 import models_service_pb2 as models_pb
from tsforge.upload.v1 import api_keys_pb2 as keys_pb


@dataclass(frozen=True)
class Secured:
    """The running platform, a caller for any RPC, and the owner's resources by pattern."""

    caller: Caller
    owner: Tenant
    resources: dict[str, str]  # "files/*" -> "files/abc", one per resource pattern
    files: tuple[str, str]  # (temperature, load)
    stubs: dict[str, object]
    api_key: str  # an API key of the owner's
    revoked_key: str  # another, revoked


@pytest.fixture(scope="package")
def secured(db, database_url, tmp_path_factory) -> Iterator[Secured]:
    store = LocalObjectStore(tmp_path_factory.mktemp("security") / "objects")
    with running_models_stack(db, database_url, store) as (evaluation, _server, stub, models_address):
        training = evaluation.training
        evaluation_stub: Any = evaluation.stub
        models_stub: Any = stub
        owner = new_tenant()
        files = upload_pair(training.upload.stub, owner)
        run = start_run(training, owner, LINEAR, files=files)
        upload = create_upload(training.upload.stub, owner, b"time;v\n")
        stored = evaluate(evaluation_stub, owner, run.name)  # READY: the owner's watches of it end at once
        model = "secured"
        version = register(models_stub, owner, model, f"{run.name}/models/linear")
        models_stub.SetAlias(
            models_pb.SetAliasRequest(name=f"registeredModels/{model}", alias="production", version=version.version),
            metadata=owner.metadata,
        )
        upload_stub: Any = training.upload.stub
        keys = [
            upload_stub.CreateApiKey(
                keys_pb.CreateApiKeyRequest(api_key=keys_pb.ApiKey(display_name=name)), metadata=owner.metadata
            )
            for name in ("ci", "revoked")
        ]
        upload_stub.RevokeApiKey(keys_pb.RevokeApiKeyRequest(name=keys[1].api_key.name), metadata=owner.metadata)
        addresses = {
            "upload": training.upload.address,
            "training": training.address,
            "evaluation": evaluation.address,
            "models": models_address,
        }
        channels = {name: grpc.insecure_channel(address) for name, address in addresses.items()}
        try:
            yield Secured(
                caller=Caller(channels),
                owner=owner,
                resources={
                    "uploads/*": upload.name,
                    "files/*": files[0],
                    "files/*#load": files[1],  # the output file, for specs that need two
                    "sessions/*": run.session,
                    "sessions/*/datasets/*": run.dataset,
                    "runs/*": run.name,
                    "runs/*/models/*": f"{run.name}/models/linear",
                    "evaluations/*": stored.name,
                    "registeredModels/*": f"registeredModels/{model}",
                    "registeredModels/*/versions/*": version.name,
                    "apiKeys/*": keys[0].api_key.name,
                },
                files=files,
                stubs={
                    "upload": training.upload.stub,
                    "training": training.stub,
                    "evaluation": evaluation.stub,
                    "models": models_stub,
                },
                api_key=keys[0].key,
                revoked_key=keys[1].key,
            )
        finally:
            for channel in channels.values():
                channel.close()


@pytest.fixture
def prober() -> Tenant:
    """A tenant of its own that owns nothing."""
    return new_tenant()
