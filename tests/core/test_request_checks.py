"""The request check every RPC applies (tsforge.core.request_checks), on every field of
every request message of every service, without a server: each bad value is named by
its field path, the biggest legal requests pass in milliseconds, and no error can grow
past the trailers' limit."""

from __future__ import annotations

import math
import re
import time

import pytest
from google.protobuf import field_mask_pb2
from google.protobuf.descriptor import FieldDescriptor

from tests.security.descriptors import (
    FieldPath,
    all_rpcs,
    container_of,
    field_paths,
    is_free_text,
    is_map,
    repeated_limit,
    text_limit,
)
from tsforge.core.errors import FieldViolation, InvalidArgument, to_grpc_status
from tsforge.core.request_checks import (
    MAX_INLINE_POINTS,
    MAX_REFERENCE_TIMES,
    MAX_VIOLATIONS,
    NAN_ALLOWED,
    REPEATED_LIMITS,
    request_problems,
    shown,
)
from tsforge.core.rpc import parse_request
from tsforge.models.v1 import models_service_pb2 as models_pb
from tsforge.upload.v1 import upload_service_pb2 as upload_pb

RPCS = all_rpcs()
REQUEST_TYPES = sorted({rpc.method.input_type.full_name: rpc for rpc in RPCS}.values(), key=lambda r: r.name)
PATHS = [(rpc, path) for rpc in REQUEST_TYPES for path in field_paths(rpc.method.input_type)]
S = FieldDescriptor


def _violations(request) -> dict[str, str]:
    return {v.field: v.description for v in request_problems(request)}


def _element_path(path: FieldPath) -> str:
    return f"{path.text}[0]" if path.leaf.is_repeated else path.text


def _set(request, path: FieldPath, value) -> None:
    holder = container_of(request, path)
    leaf = path.leaf
    if leaf.is_repeated:
        getattr(holder, leaf.name).append(value)
    else:
        setattr(holder, leaf.name, value)


def test_every_rpc_and_field_is_enumerated():
    assert len(RPCS) >= 49 and len(PATHS) > 500
    assert {rpc.service for rpc in RPCS} == {"upload", "training", "evaluation", "models"}


@pytest.mark.parametrize("rpc", REQUEST_TYPES, ids=lambda r: r.name)
def test_an_empty_request_and_every_field_set_to_a_good_value_pass(rpc):
    request = rpc.request_class()
    assert request_problems(request) == []
    for path in field_paths(rpc.method.input_type):
        holder, leaf = container_of(request, path), path.leaf
        if is_map(leaf) or leaf.type == S.TYPE_MESSAGE:
            continue
        good = {S.TYPE_STRING: "name-1", S.TYPE_BYTES: b"\x00\xff", S.TYPE_DOUBLE: 1.5, S.TYPE_FLOAT: 1.5}
        value = good.get(leaf.type, 1 if leaf.type != S.TYPE_BOOL else True)
        if leaf.type == S.TYPE_ENUM:
            value = leaf.enum_type.values[-1].number
        if leaf.is_repeated:
            getattr(holder, leaf.name).append(value)
        elif not leaf.containing_oneof or not holder.WhichOneof(leaf.containing_oneof.name):
            setattr(holder, leaf.name, value)
    assert request_problems(request) == []


def _text_paths():
    return [(r, p) for r, p in PATHS if p.leaf.type == S.TYPE_STRING]


@pytest.mark.parametrize(("rpc", "path"), _text_paths(), ids=lambda x: getattr(x, "text", getattr(x, "name", "")))
def test_every_text_field_refuses_nul_control_characters_and_oversize(rpc, path):
    for value, refused in (
        ("a\x00b", True),
        ("a\x1bb", True),
        ("a\tb\nc", not is_free_text(path.leaf)),
        ("x" * (text_limit(path.leaf) + 1), True),
        ("é" * text_limit(path.leaf), False),
    ):
        request = rpc.request_class()
        _set(request, path, value)
        found = _violations(request)
        assert (_element_path(path) in found) == refused, (value[:10], found)
        assert all(len(d) < 400 for d in found.values())


@pytest.mark.parametrize(
    ("rpc", "path"),
    [(r, p) for r, p in PATHS if p.leaf.type == S.TYPE_ENUM],
    ids=lambda x: getattr(x, "text", getattr(x, "name", "")),
)
def test_every_enum_field_refuses_numbers_it_does_not_define(rpc, path):
    request = rpc.request_class()
    _set(request, path, 99)
    assert "99 is not a value of" in _violations(request)[_element_path(path)]


@pytest.mark.parametrize(
    ("rpc", "path"),
    [(r, p) for r, p in PATHS if p.leaf.type in (S.TYPE_DOUBLE, S.TYPE_FLOAT)],
    ids=lambda x: getattr(x, "text", getattr(x, "name", "")),
)
def test_every_float_field_refuses_infinity_and_nan(rpc, path):
    for value in (math.inf, -math.inf, math.nan):
        request = rpc.request_class()
        _set(request, path, value)
        refused = not (math.isnan(value) and path.leaf.full_name in NAN_ALLOWED)
        assert (_element_path(path) in _violations(request)) == refused


@pytest.mark.parametrize(
    ("rpc", "path"),
    [
        (r, p)
        for r, p in PATHS
        if p.leaf.type == S.TYPE_MESSAGE
        and p.leaf.message_type.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration")
    ],
    ids=lambda x: getattr(x, "text", getattr(x, "name", "")),
)
def test_every_timestamp_and_duration_refuses_values_out_of_its_range(rpc, path):
    timestamp = path.leaf.message_type.full_name == "google.protobuf.Timestamp"
    bad = [(253_402_300_800, 0), (-62_135_596_801, 0), (0, -1)] if timestamp else [(315_576_000_001, 0), (1, -5)]
    for seconds, nanos in bad:
        request = rpc.request_class()
        holder = container_of(request, path)
        value = getattr(holder, path.leaf.name)
        value = value.add() if path.leaf.is_repeated else value
        value.seconds, value.nanos = seconds, nanos
        assert _element_path(path) in _violations(request), (seconds, nanos)


@pytest.mark.parametrize(
    ("rpc", "path"),
    [(r, p) for r, p in PATHS if p.leaf.is_repeated],
    ids=lambda x: getattr(x, "text", getattr(x, "name", "")),
)
def test_every_repeated_field_and_map_has_a_cap(rpc, path):
    request = rpc.request_class()
    holder, leaf = container_of(request, path), path.leaf
    cap = repeated_limit(leaf)
    values = getattr(holder, leaf.name)
    if is_map(leaf):
        key_type = leaf.message_type.fields_by_name["key"].type
        for i in range(cap + 1):
            key = f"k{i}" if key_type == S.TYPE_STRING else i
            value_field = leaf.message_type.fields_by_name["value"]
            if value_field.type == S.TYPE_MESSAGE:
                values[key].SetInParent()
            else:
                values[key] = "v" if value_field.type == S.TYPE_STRING else 1
    elif leaf.type == S.TYPE_MESSAGE:
        for _ in range(cap + 1):
            values.add()
    else:
        default = {S.TYPE_STRING: "v", S.TYPE_BYTES: b"v", S.TYPE_DOUBLE: 1.0, S.TYPE_FLOAT: 1.0}
        value = leaf.enum_type.values[-1].number if leaf.type == S.TYPE_ENUM else default.get(leaf.type, 1)
        values.extend([value] * (cap + 1))
    assert f"at most {cap} " in _violations(request)[path.text]


def test_map_keys_and_values_are_checked_and_shown_short():
    request = models_pb.UpdateModelVersionRequest()
    request.model_version.tags["k\x00" * 50_000] = "v"
    request.model_version.tags["ok"] = "\x07"
    found = {v.field: v.description for v in request_problems(request)}
    assert len(found) == 2 and "model_version.tags['ok']" in found
    (key,) = (field for field in found if field.endswith("(key)"))
    assert len(key) < 120 and len(found[key]) < 200


def test_problems_are_all_listed_up_to_a_bound():
    request = upload_pb.ListFilesRequest(page_token="\x00", role=99)
    assert {v.field for v in request_problems(request)} == {"page_token", "role"}
    many = models_pb.PredictRequest()
    for _ in range(100):
        many.files.inputs.add(feature="\x00")
    found = request_problems(many)
    assert len(found) == MAX_VIOLATIONS + 1 and found[-1].field == "request"


def test_a_value_is_echoed_by_a_short_prefix_only():
    assert shown("x" * 1_000_000) == "'" + "x" * 40 + "… (1000000 characters)"
    assert len(shown("\x00" * 1000)) < 70
    request = upload_pb.CreateUploadRequest(upload=upload_pb.Upload(file_name="\x00" + "y" * 1000))
    (violation,) = request_problems(request)
    assert len(violation.description) < 200


def test_any_error_status_fits_in_the_trailers():
    field, description = "f" * 10_000, "d" * 1_000_000
    status = to_grpc_status(InvalidArgument([FieldViolation(field, description)] * 1000))
    size = sum(len(k) + len(v) for k, v in status.trailing_metadata) + len(status.details)
    assert size < 6000, size


def test_the_biggest_legal_requests_are_checked_in_milliseconds():
    chunk = upload_pb.WriteUploadChunkRequest(name="uploads/u", offset=0, data=b"\x00" * (6 << 20))
    references = models_pb.PredictRequest(name="registeredModels/m/versions/1")
    for i in range(MAX_REFERENCE_TIMES):
        references.reference_times.add(seconds=1_700_000_000 + 3600 * i)
    inline = models_pb.PredictRequest(name="registeredModels/m/versions/1")
    series = inline.series.series.add(feature="temperature")
    points = 480_000  # as many as fit in the 8 MiB message limit
    for i in range(points):
        series.times.add(seconds=1_700_000_000 + 60 * i)
    series.values.extend([1.5] * points)
    assert inline.ByteSize() < 8 << 20 and points < MAX_INLINE_POINTS
    for request, budget in ((chunk, 0.005), (references, 0.05), (inline, 1.0)):
        data = request.SerializeToString()
        best = min(_timed(lambda d=data, r=request: parse_request(type(r), d)) for _ in range(3))
        parse = min(_timed(lambda d=data, r=request: type(r).FromString(d)) for _ in range(3))
        assert best - parse < budget, (type(request).__name__, best, parse)


def test_a_million_mask_paths_are_refused_at_once():
    request = upload_pb.UpdateFileRequest(update_mask=field_mask_pb2.FieldMask(paths=["display_name"] * 1_000_000))
    data = request.SerializeToString()
    started = time.perf_counter()
    with pytest.raises(InvalidArgument) as refused:
        parse_request(upload_pb.UpdateFileRequest, data)
    assert time.perf_counter() - started < 2.0
    assert [v.field for v in refused.value.violations] == ["update_mask.paths"]


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def test_every_cap_and_limit_setting_is_in_the_table_of_limits():
    from pathlib import Path

    import tsforge.core.config as config

    table = (Path(__file__).parents[2] / "docs" / "limits.md").read_text()
    for field in REPEATED_LIMITS:
        message, name = field.split(".")[-2:]
        assert f"`{message}.{name}`" in table, field
    settings = re.findall(
        r'"(TSFORGE_\w*(?:QUOTA|MAX|EXPIRY|MESSAGE|THREADS|WORKERS|LOST)\w*)"', Path(config.__file__).read_text()
    )
    assert len(settings) >= 7
    for setting in settings:
        assert f"`{setting}`" in table, setting
