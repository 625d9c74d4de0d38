"""Another tenant naming the owner's resources gets NOT_FOUND on every RPC that names
one, sees none of them in its lists, and changes nothing."""

from __future__ import annotations

import grpc
import pytest

from tests.security.descriptors import all_rpcs
from tests.security.requests import (
    ABOUT_THE_CALLER,
    CREATES_OWN,
    LISTS_OWN,
    assert_owner_untouched,
    names_a_resource,
    owner_request,
)

RPCS = all_rpcs()
FILTERED_LISTS = frozenset({"TrainingService.ListRuns", "EvaluationService.ListEvaluations"})
# CreateSession checks its whole spec at once: another tenant's file is one of the
# spec's problems ("files/... not found"), as documented on the RPC.
SPEC_CHECKED = frozenset({"TrainingService.CreateSession"})


def test_every_rpc_is_probed_or_says_why_not():
    unprobed = {rpc.name for rpc in RPCS if not names_a_resource(rpc)}
    why = "a new RPC names no resource: probe it, or list it with the reason"
    assert unprobed == LISTS_OWN | CREATES_OWN | ABOUT_THE_CALLER, why


@pytest.mark.parametrize("rpc", [r for r in RPCS if names_a_resource(r)], ids=lambda r: r.name)
def test_another_tenants_resource_is_not_found(secured, prober, rpc):
    request = owner_request(rpc, secured.resources)
    outcome = secured.caller.call(rpc, request.SerializeToString(), prober.metadata)
    if rpc.name in FILTERED_LISTS and outcome.code == grpc.StatusCode.OK:
        # A filter naming another tenant's session or run may also list nothing.
        assert _nothing_listed(_unary(secured, rpc, request, prober))
        return
    if rpc.name in SPEC_CHECKED:
        assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT, str(outcome)
        assert outcome.violations and all(v.endswith("not found") for v in outcome.violations.values())
    else:
        assert outcome.code == grpc.StatusCode.NOT_FOUND, str(outcome)
    assert secured.owner.name not in outcome.message


@pytest.mark.parametrize("rpc", [r for r in RPCS if r.name in LISTS_OWN], ids=lambda r: r.name)
def test_another_tenant_lists_none_of_the_owners_resources(secured, prober, rpc):
    assert _nothing_listed(_unary(secured, rpc, rpc.request_class(), prober))


def test_the_caller_is_told_only_about_itself(secured, prober):
    from tsforge.upload.v1 import api_keys_pb2

    for tenant in (prober, secured.owner):
        caller = secured.stubs["upload"].GetCaller(api_keys_pb2.GetCallerRequest(), metadata=tenant.metadata)
        assert (caller.tenant, caller.api_key) == (tenant.name, "")


def test_the_owner_still_has_everything(secured):
    assert_owner_untouched(secured)


def _nothing_listed(response) -> bool:
    return all(field.name == "next_page_token" for field, _ in response.ListFields())


def _unary(secured, rpc, request, tenant):
    stub = secured.stubs[rpc.service]
    return getattr(stub, rpc.method.name)(request, metadata=tenant.metadata, timeout=20)
