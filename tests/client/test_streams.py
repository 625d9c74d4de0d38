"""The stream flows of tsforge.client without servers: re-attaching a broken watch and
pivoting stored predictions to a row per reference time."""

from __future__ import annotations

import grpc
import pandas as pd
import pytest

from tsforge.client import NotFound, Unavailable
from tsforge.client.frames import wide_predictions
from tsforge.client.streams import follow
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.training.v1 import training_service_pb2 as tpb


class _Broken(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode):
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._code.name.lower()


def _responses(sequences, then=None):
    for sequence in sequences:
        yield tpb.WatchRunResponse(event=tr.RunEvent(sequence=sequence))
    if then is not None:
        raise then


def test_a_broken_stream_is_re_attached_after_the_last_event_seen():
    opened, heard = [], []

    def open_stream(after: int):
        opened.append(after)
        if len(opened) == 1:
            return _responses([4, 5], then=_Broken(grpc.StatusCode.UNAVAILABLE))
        return _responses([6, 7])

    events = follow(open_stream, after=3, on_reattach=lambda code, last: heard.append((code, last)), pause_seconds=0)
    assert [e.sequence for e in events] == [4, 5, 6, 7]
    assert opened == [3, 5] and heard == [(grpc.StatusCode.UNAVAILABLE, 5)]


def test_a_refusal_is_raised_at_once_and_endless_breaks_give_up():
    with pytest.raises(NotFound):
        list(follow(lambda after: _responses([], then=_Broken(grpc.StatusCode.NOT_FOUND)), pause_seconds=0))
    broken = follow(
        lambda after: _responses([], then=_Broken(grpc.StatusCode.UNAVAILABLE)),
        reattach_seconds=0.05,
        pause_seconds=0.01,
    )
    with pytest.raises(Unavailable):
        list(broken)


def test_wide_predictions_have_a_row_per_reference_time_and_columns_per_feature_and_step():
    references = pd.to_datetime(["2024-01-01T00:00Z", "2024-01-01T01:00Z"])
    long = pd.DataFrame(
        [
            {
                "reference_time": ref,
                "feature": feature,
                "step": step,
                "time": ref + pd.Timedelta(hours=step),
                "actual": 10 * r + step,
                "predicted": 10 * r + step + 0.5,
                "lower_80": 0.0,
                "upper_80": 99.0,
            }
            for r, ref in enumerate(references)
            for step in (1, 2)
            for feature in ("load", "price")
        ]
    )
    wide = wide_predictions(long)
    assert list(wide.columns[:6]) == [
        "reference_time",
        "load.1.time",
        "load.1.actual",
        "load.1.predicted",
        "load.1.lower_80",
        "load.1.upper_80",
    ]
    assert list(wide.columns[6:8]) == ["load.2.time", "load.2.actual"] and "price.2.predicted" in wide.columns
    assert list(wide["reference_time"]) == list(references)
    assert list(wide["load.2.actual"]) == [2, 12] and list(wide["price.1.predicted"]) == [1.5, 11.5]
    assert wide["load.2.time"].iloc[1] == references[1] + pd.Timedelta(hours=2)
