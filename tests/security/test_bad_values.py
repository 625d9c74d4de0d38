"""Every field of every RPC's request, set to a bad value on a request that names the
owner's resources (sent by another tenant, so a value the service takes ends in
NOT_FOUND and changes nothing):

- NUL, control characters and oversized text, unknown enum numbers, non-finite floats,
  dates past 9999, and lists over their cap are INVALID_ARGUMENT naming the field;
- the extremes of every integer field get a documented code (never INTERNAL);
- every answer comes fast, well within its deadline.
"""

from __future__ import annotations

import math
from typing import cast

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor

from tests.plugin import new_tenant
from tests.security.calls import SERVER_FAILURES
from tests.security.descriptors import (
    FieldPath,
    Rpc,
    all_rpcs,
    container_of,
    field_paths,
    is_map,
    repeated_limit,
    text_limit,
)
from tests.security.requests import assert_owner_untouched, owner_request, safe_for_the_owner
from tsforge.core.request_checks import NAN_ALLOWED

S = FieldDescriptor
RPCS = all_rpcs()
INT_RANGES = {
    S.TYPE_INT32: (-(2**31), 2**31 - 1),
    S.TYPE_SINT32: (-(2**31), 2**31 - 1),
    S.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    S.TYPE_INT64: (-(2**63), 2**63 - 1),
    S.TYPE_SINT64: (-(2**63), 2**63 - 1),
    S.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    S.TYPE_UINT32: (0, 2**32 - 1),
    S.TYPE_FIXED32: (0, 2**32 - 1),
    S.TYPE_UINT64: (0, 2**64 - 1),
    S.TYPE_FIXED64: (0, 2**64 - 1),
}
_TIMES = ("google.protobuf.Timestamp", "google.protobuf.Duration")
_GOOD = {S.TYPE_STRING: "v", S.TYPE_BYTES: b"v", S.TYPE_DOUBLE: 1.0, S.TYPE_FLOAT: 1.0, S.TYPE_BOOL: True}


def _mutations(path: FieldPath):
    """(label, setter, field the request check names or None) for the leaf of `path`;
    a setter that appends to a list returns the path of the element it added."""
    leaf = path.leaf

    def put(value):
        def set_value(request):
            holder = container_of(request, path)
            if leaf.is_repeated:
                values = getattr(holder, leaf.name)
                values.append(value)
                return f"{path.text}[{len(values) - 1}]"
            setattr(holder, leaf.name, value)
            return path.text

        return set_value

    if is_map(leaf):

        def many(request):
            entries = getattr(container_of(request, path), leaf.name)
            value = leaf.message_type.fields_by_name["value"]
            for i in range(repeated_limit(leaf) + 1):
                if value.type == S.TYPE_MESSAGE:
                    entries[f"k{i}"].SetInParent()
                else:
                    entries[f"k{i}"] = "v" if value.type == S.TYPE_STRING else 1

        def nul_key(request):
            entries = getattr(container_of(request, path), leaf.name)
            entries["k\x00"] = "v" if leaf.message_type.fields_by_name["value"].type == S.TYPE_STRING else 1

        yield "too many entries", many, path.text
        if leaf.message_type.fields_by_name["key"].type == S.TYPE_STRING:
            yield "NUL in a key", nul_key, f"{path.text}['k\\x00'] (key)"
        return
    where = f"{path.text}[0]" if leaf.is_repeated else path.text
    if leaf.is_repeated:

        def over_cap(request):
            values = getattr(container_of(request, path), leaf.name)
            cap = repeated_limit(leaf) + 1
            if leaf.type == S.TYPE_MESSAGE:
                for _ in range(cap):
                    values.add()
            else:
                default = {
                    S.TYPE_STRING: "v",
                    S.TYPE_BYTES: b"v",
                    S.TYPE_DOUBLE: 1.0,
                    S.TYPE_FLOAT: 1.0,
                    S.TYPE_BOOL: True,
                }
                value = leaf.enum_type.values[-1].number if leaf.type == S.TYPE_ENUM else default.get(leaf.type, 1)
                values.extend([value] * cap)

        yield "over its cap", over_cap, path.text
    if leaf.type == S.TYPE_STRING:
        yield "NUL", put("ab\x00cd"), where
        yield "escape", put("ab\x1b[31m"), where
        yield "oversized", put("x" * (text_limit(leaf) + 1)), where
    elif leaf.type == S.TYPE_ENUM:
        yield "unknown enum", put(99), where
        yield "negative enum", put(-1), where
    elif leaf.type in (S.TYPE_DOUBLE, S.TYPE_FLOAT):
        yield "inf", put(math.inf), where
        yield "-inf", put(-math.inf), where
        if leaf.full_name not in NAN_ALLOWED:
            yield "nan", put(math.nan), where
        yield "1e308", put(1e308 if leaf.type == S.TYPE_DOUBLE else 3e38), None
        yield "-1e308", put(-1e308 if leaf.type == S.TYPE_DOUBLE else -3e38), None
    elif leaf.type in INT_RANGES:
        low, high = INT_RANGES[leaf.type]
        yield "largest", put(high), None
        yield "smallest", put(low), None
        yield "minus one", put(-1 if low < 0 else 0), None
    elif leaf.type == S.TYPE_MESSAGE and leaf.message_type.full_name in _TIMES:

        def far(seconds: int, nanos: int = 0):
            def set_time(request):
                holder = getattr(container_of(request, path), leaf.name)
                value = holder.add() if leaf.is_repeated else holder
                value.seconds, value.nanos = seconds, nanos
                return f"{path.text}[{len(holder) - 1}]" if leaf.is_repeated else path.text

            return set_time

        yield "past 9999", far(253_402_300_800 * 10), where
        yield "last second of 9999", far(253_402_300_799), None
        yield "year 1", far(-62_135_596_800), None
        yield "negative nanos", far(0, -1) if leaf.message_type.name == "Timestamp" else far(5, -1), where


@pytest.fixture(scope="module")
def module_prober():
    """One tenant, owning nothing, for every case of this module."""
    return new_tenant()


CASES = [
    pytest.param(rpc, path, label, mutate, field, id=f"{rpc.name}:{path.text}:{label}")
    for rpc in RPCS
    for path in field_paths(rpc.method.input_type)
    for label, mutate, field in _mutations(path)
]


def test_every_kind_of_field_is_mutated():
    kinds = {path.leaf.type for rpc, path, *_ in (case.values for case in CASES)}
    assert {S.TYPE_STRING, S.TYPE_ENUM, S.TYPE_DOUBLE, S.TYPE_INT32, S.TYPE_INT64, S.TYPE_MESSAGE} <= kinds
    assert len(CASES) > 1500


@pytest.mark.parametrize(("rpc", "path", "label", "mutate", "field"), CASES)
def test_a_bad_value_gets_a_documented_code_fast(secured, module_prober, rpc, path, label, mutate, field):
    request = owner_request(rpc, secured.resources)
    field = mutate(request) or field if field is not None else None
    outcome = secured.caller.call(rpc, request.SerializeToString(), module_prober.metadata, timeout=20)
    assert outcome.code not in SERVER_FAILURES, str(outcome)
    assert outcome.seconds < 10, str(outcome)
    if field is not None:
        assert outcome.code == grpc.StatusCode.INVALID_ARGUMENT, str(outcome)
        assert field in outcome.violations, (field, outcome.violations)
        assert all(len(v) <= 300 for v in outcome.violations.values())
    assert len(outcome.message) <= 500


OWNER_CASES = [c for c in CASES if c.values[4] is None and safe_for_the_owner(cast(Rpc, c.values[0]))]


@pytest.mark.parametrize(("rpc", "path", "label", "mutate", "field"), OWNER_CASES)
def test_a_value_the_check_lets_through_is_handled_by_the_owners_call(secured, rpc, path, label, mutate, field):
    """Values within their type that the request check passes (integer extremes, huge
    finite floats, the first and last second of the Timestamp range) reach the domain
    code when the owner calls: never a server failure there either."""
    request = owner_request(rpc, secured.resources)
    mutate(request)
    outcome = secured.caller.call(rpc, request.SerializeToString(), secured.owner.metadata, timeout=20)
    assert outcome.code not in SERVER_FAILURES, str(outcome)
    assert outcome.seconds < 10, str(outcome)


def test_the_owner_still_has_everything(secured):
    assert_owner_untouched(secured)
