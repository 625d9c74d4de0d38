"""ModelsService over gRPC: messages in, domain calls, messages out."""

from __future__ import annotations

import numpy as np

from services.models.artifacts import VersionObjects
from services.models.messages import registered_model_message, version_message
from services.models.names import check_alias, model_version_name, parse_model, parse_version
from services.models.prediction import FileInput, Forecaster, Forecasts, InlineInput
from services.models.registry import Registry
from tsforge.core import context, pagination
from tsforge.core.errors import FieldViolation, InvalidArgument
from tsforge.core.pagination import page_size
from tsforge.models.v1 import models_service_pb2 as pb
from tsforge.models.v1 import models_service_pb2_grpc as pb_grpc
from tsforge.tabular.dialect import END_TIME, FIRST_TIME

_EDITABLE = {"description", "tags"}


def _masked(given, update_mask, field: str) -> tuple[str | None, dict[str, str] | None]:
    """(description, tags) of `given` that the mask names, None for the other."""
    paths = set(update_mask.paths)
    if not paths or not paths <= _EDITABLE:
        raise InvalidArgument(
            FieldViolation(
                "update_mask", f"must name some of description, tags (got {sorted(paths) or 'none'}) for {field}"
            )
        )
    return (given.description if "description" in paths else None, dict(given.tags) if "tags" in paths else None)


class ModelsServicer(pb_grpc.ModelsServiceServicer):
    def __init__(self, registry: Registry, objects: VersionObjects, forecaster: Forecaster):
        self._registry = registry
        self._objects = objects
        self._forecaster = forecaster

    def RegisterModelVersion(self, request, _context):
        model = parse_model(request.parent, "parent")
        given = request.model_version
        version = self._registry.register(
            context.tenant(),
            model,
            given.source_model,
            given.description,
            dict(given.tags),
            request.registered_model_description,
        )
        return pb.RegisterModelVersionResponse(model_version=version_message(version))

    def GetRegisteredModel(self, request, _context):
        model = self._registry.get_model(context.tenant(), parse_model(request.name))
        return pb.GetRegisteredModelResponse(registered_model=registered_model_message(model))

    def ListRegisteredModels(self, request, _context):
        limit = page_size(request.page_size)
        models = self._registry.list_models(
            context.tenant(),
            limit + 1,
            pagination.decode(request.page_token, "m", _text),
            request.name_prefix,
            request.tag,
        )
        token = pagination.encode("m", models[limit - 1].name) if len(models) > limit else ""
        return pb.ListRegisteredModelsResponse(
            registered_models=[registered_model_message(m) for m in models[:limit]], next_page_token=token
        )

    def UpdateRegisteredModel(self, request, _context):
        given = request.registered_model
        model = parse_model(given.name, "registered_model.name")
        updated = self._registry.update_model(
            context.tenant(), model, *_masked(given, request.update_mask, "registered models")
        )
        return pb.UpdateRegisteredModelResponse(registered_model=registered_model_message(updated))

    def DeleteRegisteredModel(self, request, _context):
        self._registry.delete_model(context.tenant(), parse_model(request.name), request.force)
        return pb.DeleteRegisteredModelResponse()

    def GetModelVersion(self, request, _context):
        version = self._registry.resolve(context.tenant(), parse_version(request.name))
        return pb.GetModelVersionResponse(model_version=version_message(version))

    def ListModelVersions(self, request, _context):
        model = parse_model(request.parent, "parent")
        limit = page_size(request.page_size)
        versions = self._registry.list_versions(
            context.tenant(), model, limit + 1, pagination.decode(request.page_token, "v", _whole)
        )
        token = pagination.encode("v", versions[limit - 1].version) if len(versions) > limit else ""
        return pb.ListModelVersionsResponse(
            model_versions=[version_message(v) for v in versions[:limit]], next_page_token=token
        )

    def UpdateModelVersion(self, request, _context):
        given = request.model_version
        ref = parse_version(given.name, "model_version.name")
        updated = self._registry.update_version(
            context.tenant(), ref, *_masked(given, request.update_mask, "model versions")
        )
        return pb.UpdateModelVersionResponse(model_version=version_message(updated))

    def DeleteModelVersion(self, request, _context):
        ref = parse_version(request.name, allow_alias=False)
        self._registry.delete_version(context.tenant(), ref.model, ref.version)
        return pb.DeleteModelVersionResponse()

    def SetAlias(self, request, _context):
        model = parse_model(request.name)
        check_alias(request.alias)
        if request.version < 1:
            raise InvalidArgument(FieldViolation("version", "must be a version number, 1 or more"))
        updated = self._registry.set_alias(context.tenant(), model, request.alias, request.version)
        return pb.SetAliasResponse(registered_model=registered_model_message(updated))

    def DeleteAlias(self, request, _context):
        model = parse_model(request.name)
        updated = self._registry.delete_alias(context.tenant(), model, check_alias(request.alias))
        return pb.DeleteAliasResponse(registered_model=registered_model_message(updated))

    def DownloadModelVersion(self, request, _context):
        name = request.name
        version = self._registry.resolve(context.tenant(), parse_version(name))
        header, chunks = self._objects.open(context.tenant(), version, request.format, name)
        yield pb.DownloadModelVersionResponse(header=header)
        for chunk in chunks:
            yield pb.DownloadModelVersionResponse(chunk=chunk)

    def Predict(self, request, _context):
        tenant = context.tenant()
        version = self._registry.resolve(tenant, parse_version(request.name))
        which = request.WhichOneof("inputs")
        if which == "files":
            inputs = [FileInput(i.feature, i.file, i.column) for i in request.files.inputs]
        elif which == "series":
            inputs = [
                InlineInput(
                    s.feature,
                    _timestamps_ns(s.times, f"series.series[{i}].times").view("datetime64[ns]"),
                    np.asarray(s.values, dtype=np.float64),
                )
                for i, s in enumerate(request.series.series)
            ]
        else:
            raise InvalidArgument(FieldViolation("inputs", "give files or series"))
        references = _timestamps_ns(request.reference_times, "reference_times")
        forecasts = self._forecaster.predict(tenant, version, inputs, references)
        return _predict_response(model_version_name(version.model_name, version.version), forecasts)


_FIRST_SECOND, _END_SECOND = int(FIRST_TIME.timestamp()), int(END_TIME.timestamp())


def _timestamps_ns(stamps, field: str) -> np.ndarray:
    """Nanoseconds since the epoch. Raises InvalidArgument naming `field`[i] for a time
    outside the years the forecasting code computes in (tsforge.tabular.dialect.FIRST_TIME
    up to END_TIME; the request check has already refused years past 9999)."""
    seconds = np.fromiter((s.seconds for s in stamps), dtype=np.int64, count=len(stamps))
    outside = np.flatnonzero((seconds < _FIRST_SECOND) | (seconds >= _END_SECOND))
    if outside.size:
        first = int(outside[0])
        raise InvalidArgument(
            FieldViolation(
                f"{field}[{first}]",
                f"must lie within the years {FIRST_TIME.year}..{END_TIME.year - 1}, got {stamps[first].ToJsonString()}"
                + (f" ({outside.size} times are outside)" if outside.size > 1 else ""),
            )
        )
    nanos = np.fromiter((s.nanos for s in stamps), dtype=np.int64, count=len(stamps))
    return seconds * 10**9 + nanos


def _predict_response(model_version: str, forecasts: Forecasts) -> pb.PredictResponse:
    """Values go in as packed doubles per feature (one list per forecast, from one
    ndarray.tolist()); the step times once per feature, as offsets."""
    references = forecasts.reference_times
    seconds, nanos = np.divmod(references, 10**9)
    values = np.ascontiguousarray(np.asarray(forecasts.values, dtype=np.float64).transpose(0, 2, 1)).tolist()
    names = forecasts.output_names
    response = pb.PredictResponse(model_version=model_version)
    for j, feature in enumerate(names):
        offsets = response.steps.add(feature=feature).offsets
        for offset in forecasts.offsets[j].tolist():
            offsets.add().FromNanoseconds(offset)
    bounds = None
    if forecasts.lower is not None:
        # (n, levels, steps, outputs) -> (n, outputs, levels, steps) lists.
        bounds = [
            np.ascontiguousarray(np.asarray(b, dtype=np.float64).transpose(0, 3, 1, 2)).tolist()
            for b in (forecasts.lower, forecasts.upper)
        ]
    add = response.forecasts.add
    for i, (second, nano, rows) in enumerate(zip(seconds.tolist(), nanos.tolist(), values)):
        forecast = add()
        forecast.reference_time.seconds, forecast.reference_time.nanos = second, nano
        add_feature = forecast.features.add
        for j, (feature, row) in enumerate(zip(names, rows)):
            item = add_feature(feature=feature)
            item.values.extend(row)
            if bounds is not None:
                for level, lower, upper in zip(forecasts.levels, bounds[0][i][j], bounds[1][i][j]):
                    item.intervals.add(level=level, lower=lower, upper=upper)
    return response


def _text(position) -> str:
    if not isinstance(position, str):
        raise TypeError("a name")
    return position


def _whole(position) -> int:
    if type(position) is not int or position < 1:
        raise TypeError("a version number")
    return position
