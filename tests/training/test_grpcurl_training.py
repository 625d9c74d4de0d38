"""grpcurl, a client no one here wrote, works against the training service through reflection."""

from __future__ import annotations

import json

from tests.plugin import running_training_stack
from tests.training.helpers import create_session, small_spec, upload_pair
from tests.upload.test_grpcurl import _grpcurl

SERVICE = "tsforge.training.v1.TrainingService"


def test_grpcurl_lists_describes_and_calls_the_training_service(db, database_url, local_store, tenant, other_tenant):
    # No worker: nothing here trains, and a worker would cost seconds to start.
    with running_training_stack(db, database_url, local_store, workers=0) as stack:
        temperature, load = upload_pair(stack.upload.stub, tenant, hours=48)
        session = create_session(stack.stub, tenant, small_spec(temperature, load))

        listed = _grpcurl(stack.address, "list").split()
        assert SERVICE in listed and "grpc.health.v1.Health" in listed
        described = _grpcurl(stack.address, "describe", SERVICE)
        assert "rpc CreateSession" in described and "rpc WatchRun" in described
        assert "returns ( stream .tsforge.training.v1.WatchRunResponse )" in described

        def list_sessions(token: str) -> dict:
            return json.loads(
                _grpcurl(
                    "-H",
                    f"authorization: Bearer {token}",
                    "-d",
                    '{"pageSize": 5}',
                    stack.address,
                    f"{SERVICE}/ListSessions",
                )
            )

        sessions = list_sessions(tenant.token)["sessions"]
        assert [s["name"] for s in sessions] == [session.name]
        assert sessions[0]["spec"]["inputs"][0]["feature"] == "temperature"
        assert list_sessions(other_tenant.token).get("sessions", []) == []  # another tenant sees none
