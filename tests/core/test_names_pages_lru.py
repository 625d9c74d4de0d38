"""The shared parsers and codecs every service uses: names, page tokens, the LRU."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from tsforge.core.errors import InvalidArgument
from tsforge.core.lru import Lru
from tsforge.core.names import parse_dataset_name, parse_model_name, parse_name
from tsforge.core.pagination import decode, decode_offset, decode_token, encode, encode_offset, paginate


def test_names_are_parsed_alike_everywhere():
    assert parse_name("files/abc-1", "files") == "abc-1"
    assert parse_model_name("runs/0a1b/models/dense") == ("0a1b", "dense")
    assert parse_dataset_name("sessions/s1/datasets/d2") == ("s1", "d2")
    for name in (
        "runs//models/dense",  # empty segment
        "runs/r1/models/",
        "runs/r1/models/dense/",
        "runs/r1\n/models/dense",  # a trailing newline
        "runs/R1/models/dense",
        "runs/r١/models/dense",  # a non-ASCII digit
        "runs/r1/model/dense",
        "runs/r1",
        "runs/" + "a" * 64 + "/models/x",
    ):
        with pytest.raises(InvalidArgument) as refused:
            parse_model_name(name, "source")
        (violation,) = refused.value.violations
        assert violation.field == "source" and "runs/{run}/models/{model}" in violation.description
    with pytest.raises(InvalidArgument) as long:
        parse_name("files/" + "x" * 100_000, "files")
    assert len(long.value.message) < 300  # a huge name is not echoed back


def test_page_tokens_round_trip_and_anything_else_is_invalid_argument():
    rows = [SimpleNamespace(create_time=datetime(2026, 1, 1, tzinfo=UTC), id=f"r{i}") for i in range(3)]
    page, token = paginate(rows, 2)
    assert page == rows[:2] and decode_token(token) == (rows[1].create_time, "r1")
    assert paginate(rows, 5) == (rows, "")
    assert decode_offset(encode_offset(40)) == 40 and decode_offset("") == 0
    assert decode(encode("v", 7), "v", int) == 7
    nested = base64.urlsafe_b64encode(("[" * 100_000 + "]" * 100_000).encode()).decode()
    for token in (
        "nonsense",
        encode("v", 7),  # another list's token
        encode("o", -1),
        encode("o", True),
        nested,
        "A" * 5000,
        base64.urlsafe_b64encode(json.dumps(["k", [1, 2]]).encode()).decode(),
    ):
        readers = [decode_token, decode_offset]
        if token != encode("v", 7):  # the one list that issued it takes it
            readers.append(lambda t: decode(t, "v", int))
        for read in readers:
            with pytest.raises(InvalidArgument) as refused:
                read(token)
            assert refused.value.violations[0].field == "page_token"


def test_the_lru_is_bounded_by_weight_and_keeps_the_newest():
    cache: Lru[str, bytes] = Lru(10, len)
    assert cache.put("a", b"1234") == [] and cache.put("b", b"1234") == []
    assert cache.get("a") == b"1234"  # a is now the most recently used
    assert cache.put("c", b"1234") == [b"1234"] and cache.get("b") is None
    assert cache.weight == 8 and len(cache) == 2
    assert cache.put("huge", b"x" * 50) == [b"1234", b"1234"]
    assert cache.get("huge") and len(cache) == 1  # alone over the bound, but in use
    assert cache.pop("huge") and cache.weight == 0
