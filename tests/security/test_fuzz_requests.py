"""Fuzzing every RPC with request messages built from its descriptor (random fields at
any depth on top of a request that names the owner's resources, sent by another
tenant), and with random bytes: never a server failure, never past the deadline.

Seeded (derandomize) and bounded: the same examples on every run, EXAMPLES per RPC.
"""

from __future__ import annotations

import math
import os

import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.plugin import new_tenant
from tests.security.calls import SERVER_FAILURES
from tests.security.descriptors import all_rpcs, is_map
from tests.security.requests import assert_owner_untouched, owner_request, safe_for_the_owner

S = FieldDescriptor
RPCS = all_rpcs()
# A few examples per RPC in every run; TSFORGE_FUZZ_EXAMPLES=1000 for a long hunt.
EXAMPLES = int(os.environ.get("TSFORGE_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,  # each call has its gRPC deadline
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_INTS = {
    S.TYPE_INT32: 31,
    S.TYPE_SINT32: 31,
    S.TYPE_SFIXED32: 31,
    S.TYPE_INT64: 63,
    S.TYPE_SINT64: 63,
    S.TYPE_SFIXED64: 63,
}
_UINTS = {S.TYPE_UINT32: 32, S.TYPE_FIXED32: 32, S.TYPE_UINT64: 64, S.TYPE_FIXED64: 64}
_TRICKY_TEXT = [
    "",
    "x",
    "files/",
    "files/a/b",
    "runs/x/models/",
    "registeredModels/a@",
    "registeredModels/a/versions/99999999999999999999",
    "registeredModels/a/versions/\u0663",
    "display_name",
    "description",
    "tags",
    "spec.window",
    "eyJhbGciOiJIUzI1NiJ9",
    "W1siayIsIFtdXV0",  # a page token of the wrong shape
    "1e999",
    "inf",
    "9999-12-31T23:59:59Z",
]


@pytest.fixture(scope="module")
def module_prober():
    return new_tenant()


def _scalar(f: FieldDescriptor, names: list[str]) -> st.SearchStrategy:
    if f.type == S.TYPE_STRING:
        return st.one_of(st.sampled_from(names + _TRICKY_TEXT), st.text(max_size=24))
    if f.type == S.TYPE_BYTES:
        return st.binary(max_size=32)
    if f.type == S.TYPE_BOOL:
        return st.booleans()
    if f.type == S.TYPE_ENUM:
        defined = st.sampled_from([v.number for v in f.enum_type.values])
        return st.one_of(defined, defined, st.integers(-3, 200))
    if f.type == S.TYPE_DOUBLE:
        return st.one_of(st.floats(-1e6, 1e6), st.floats())
    if f.type == S.TYPE_FLOAT:
        return st.one_of(st.floats(-1e6, 1e6, width=32), st.floats(width=32))
    if f.type in _INTS:
        bits = _INTS[f.type]
        return st.one_of(st.integers(-5, 5000), st.integers(-(2**bits), 2**bits - 1))
    bits = _UINTS[f.type]
    return st.one_of(st.integers(0, 5000), st.integers(0, 2**bits - 1))


@st.composite
def _fill(draw, message, descriptor: Descriptor, names: list[str], depth: int):
    """Sets a few random fields of `message`, recursing into message fields."""
    fields = list(descriptor.fields)
    if not fields:
        return message
    for f in draw(st.lists(st.sampled_from(fields), max_size=min(4, len(fields)), unique=True)):
        if is_map(f):
            key = f.message_type.fields_by_name["key"]
            value = f.message_type.fields_by_name["value"]
            entries = getattr(message, f.name)
            for k in draw(st.lists(_scalar(key, names), max_size=3)):
                if value.type == S.TYPE_MESSAGE:
                    entries[k].SetInParent()
                else:
                    entries[k] = draw(_scalar(value, names))
        elif f.type == S.TYPE_MESSAGE:
            if depth >= 4:
                continue
            count = draw(st.integers(1, 2)) if f.is_repeated else 1
            for _ in range(count):
                child = getattr(message, f.name).add() if f.is_repeated else getattr(message, f.name)
                child.SetInParent()
                draw(_fill(child, f.message_type, names, depth + 1))
        elif f.is_repeated:
            getattr(message, f.name).extend(draw(st.lists(_scalar(f, names), max_size=3)))
        else:
            value = draw(_scalar(f, names))
            if f.type == S.TYPE_FLOAT and math.isfinite(value) and abs(value) > 3.4e38:
                value = math.inf
            setattr(message, f.name, value)
    return message


def _fuzz_messages(secured, rpc, metadata) -> None:
    names = sorted(secured.resources.values())

    @FUZZ
    @given(data=st.data())
    def fuzz(data):
        base = data.draw(st.booleans())
        request = owner_request(rpc, secured.resources) if base else rpc.request_class()
        data.draw(_fill(request, rpc.method.input_type, names, 0))
        outcome = secured.caller.call(rpc, request.SerializeToString(), metadata, timeout=20)
        assert outcome.code not in SERVER_FAILURES, (str(outcome), request)
        assert outcome.seconds < 10, str(outcome)

    fuzz()


@pytest.mark.parametrize("rpc", RPCS, ids=lambda r: r.name)
def test_random_messages_from_another_tenant_never_fail_the_server(secured, module_prober, rpc):
    _fuzz_messages(secured, rpc, module_prober.metadata)


@pytest.mark.parametrize("rpc", [r for r in RPCS if safe_for_the_owner(r)], ids=lambda r: r.name)
def test_random_messages_from_the_owner_never_fail_the_server(secured, rpc):
    """The owner's calls get past the ownership checks, into the domain code."""
    _fuzz_messages(secured, rpc, secured.owner.metadata)


@pytest.mark.parametrize("rpc", RPCS, ids=lambda r: r.name)
def test_random_bytes_never_fail_the_server(secured, module_prober, rpc):
    @FUZZ
    @given(body=st.binary(max_size=256))
    def fuzz(body):
        outcome = secured.caller.call(rpc, body, module_prober.metadata, timeout=20)
        assert outcome.code not in SERVER_FAILURES, (str(outcome), body)

    fuzz()


def test_the_owner_still_has_everything(secured):
    assert_owner_untouched(secured)


def test_message_strategies_cover_every_request_type():
    """The strategy builds a message for every request type (no field type unhandled)."""

    @settings(max_examples=3, derandomize=True, database=None, deadline=None)
    @given(data=st.data())
    def build(data):
        for rpc in RPCS:
            request = message_factory.GetMessageClass(rpc.method.input_type)()
            data.draw(_fill(request, rpc.method.input_type, ["files/x"], 0))
            request.SerializeToString()

    build()
