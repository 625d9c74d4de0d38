"""The registry's records as API messages."""

from __future__ import annotations

from services.models.bundle import version_required_series
from services.models.domain import ModelVersion, RegisteredModel
from services.models.names import model_version_name, registered_model_name
from tsforge.common.v1 import common_pb2
from tsforge.core.timestamps import timestamp
from tsforge.models.v1 import models_resources_pb2 as mr


def registered_model_message(model: RegisteredModel) -> mr.RegisteredModel:
    return mr.RegisteredModel(
        name=registered_model_name(model.name),
        description=model.description,
        tags=model.tags,
        latest_version=model.latest_version,
        aliases=model.aliases,
        create_time=timestamp(model.create_time),
        update_time=timestamp(model.update_time),
    )


def version_message(version: ModelVersion) -> mr.ModelVersion:
    lineage = mr.ModelLineage.FromString(version.lineage)
    return mr.ModelVersion(
        name=model_version_name(version.model_name, version.version),
        version=version.version,
        source_model=version.source_model,
        lineage=lineage,
        required_series=version_required_series(lineage),
        description=version.description,
        tags=version.tags,
        aliases=version.aliases,
        formats=version.formats,
        bundle=common_pb2.ObjectRef.FromString(version.bundle),
        create_time=timestamp(version.create_time),
        update_time=timestamp(version.update_time),
    )
