"""Rows of the training schema as the API's resource messages.

Sessions, datasets and runs keep their nested parts (spec, results) as proto3 JSON,
so a resource message is its row's columns plus its parsed document.
"""

from __future__ import annotations

from google.protobuf import json_format

from services.training.rows import DatasetRow, RunRow, SessionRow
from tsforge.core.timestamps import timestamp
from tsforge.training.v1 import training_resources_pb2 as tr


def to_json(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def from_json(data, message_type):
    return json_format.ParseDict(data, message_type(), ignore_unknown_fields=False)


def session_message(row: SessionRow, latest_dataset: str = "") -> tr.Session:
    return tr.Session(
        name=f"sessions/{row.id}",
        display_name=row.display_name,
        description=row.description,
        spec=from_json(row.spec, tr.DatasetSpec),
        latest_dataset=latest_dataset,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )


def dataset_message(row: DatasetRow) -> tr.Dataset:
    dataset = from_json(row.document, tr.Dataset)
    dataset.name = f"sessions/{row.session_id}/datasets/{row.id}"
    dataset.state = row.state
    dataset.failure_reason = row.failure_reason
    for field in ("create_time", "start_time", "end_time"):
        stamp = timestamp(getattr(row, field))
        if stamp is not None:
            getattr(dataset, field).CopyFrom(stamp)
    return dataset


def run_message(row: RunRow) -> tr.Run:
    run = tr.Run(
        name=f"runs/{row.id}",
        display_name=row.display_name,
        dataset=f"sessions/{row.session_id}/datasets/{row.dataset_id}",
        session=f"sessions/{row.session_id}",
        state=row.state,
        failure_reason=row.failure_reason,
        attempt_count=row.attempt_count,
        last_event_sequence=row.last_event_sequence,
        models=[from_json(model, tr.ModelResult) for model in row.models],
    )
    run.model_specs.extend(model.spec for model in run.models)
    for field in ("create_time", "start_time", "end_time", "update_time"):
        stamp = timestamp(getattr(row, field))
        if stamp is not None:
            getattr(run, field).CopyFrom(stamp)
    return run
