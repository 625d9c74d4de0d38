"""The registry's domain: registering trained models as versions, and managing
registered models, versions and aliases. No gRPC here; the servicer translates."""

from __future__ import annotations

import logging
from typing import Protocol

from services.models.artifacts import VersionObjects
from services.models.bundle import bundle_zip, formats_for, lineage_of, scalers_json
from services.models.domain import ModelVersion, NewVersion, RegisteredModel
from services.models.names import VersionRef, registered_model_name
from services.models.repository import ModelRepository
from tsforge.core.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from tsforge.core.lru import Lru
from tsforge.core.names import parse_model_name
from tsforge.core.validation import description_problems
from tsforge.evaluation.v1 import evaluation_resources_pb2 as er
from tsforge.training.v1 import training_resources_pb2 as tr

log = logging.getLogger(__name__)
DATASET_CACHE_SIZE = 256


class TrainingSource(Protocol):
    def get_run(self, tenant: str, name: str) -> tr.Run: ...
    def get_dataset(self, tenant: str, name: str) -> tr.Dataset: ...
    def read_dataset_object(self, tenant: str, dataset: str, object_id: str) -> bytes: ...
    def read_model_artifact(self, tenant: str, model: str) -> bytes: ...


class EvaluationSource(Protocol):
    def newest_covering(self, tenant: str, run: str, model: str) -> er.Evaluation | None: ...


MAX_TAGS = 64


def check_labels(description: str | None, tags: dict[str, str] | None, resource: str) -> None:
    """A description of at most 10,000 characters and at most 64 tags: keys of 1..63,
    values of at most 255 characters. Raises InvalidArgument with every problem."""
    violations = [] if description is None else description_problems(description, f"{resource}.description")
    field = f"{resource}.tags"
    tags = tags or {}
    if len(tags) > MAX_TAGS:
        violations.append(FieldViolation(field, f"at most {MAX_TAGS} tags, got {len(tags)}"))
    else:
        violations += [
            FieldViolation(field, f"key {key[:70]!r} must be 1..63 characters")
            for key in tags
            if not 1 <= len(key) <= 63
        ]
        violations += [
            FieldViolation(field, f"value of {key[:70]!r} must be at most 255 characters")
            for key, value in tags.items()
            if len(value) > 255
        ]
    if violations:
        raise InvalidArgument(violations)


def model_comparison(evaluation: er.Evaluation, model: str) -> er.BaselineComparison | None:
    """The evaluation's baseline comparison with models_beating_baseline reduced to
    `model` (kept when it beats the strongest baseline); None when it has none."""
    if not evaluation.HasField("baseline_comparison"):
        return None
    reduced = er.BaselineComparison()
    reduced.CopyFrom(evaluation.baseline_comparison)
    beating = model in evaluation.baseline_comparison.models_beating_baseline
    del reduced.models_beating_baseline[:]
    if beating:
        reduced.models_beating_baseline.append(model)
    return reduced


def model_metrics(evaluation: er.Evaluation, model: str) -> list[er.MetricTable]:
    """The evaluation's OVERALL tables reduced to `model`'s rows and the baseline rows."""
    tables = []
    for table in evaluation.overall_tables:
        reduced = er.MetricTable()
        reduced.CopyFrom(table)
        del reduced.rows[:]
        reduced.rows.extend(row for row in table.rows if row.model in (model, ""))
        tables.append(reduced)
    return tables


def _parse_source(source_model: str) -> str:
    run_id, _ = parse_model_name(source_model, "model_version.source_model")
    return f"runs/{run_id}"


class Registry:
    def __init__(
        self,
        repository: ModelRepository,
        training: TrainingSource,
        evaluations: EvaluationSource,
        objects: VersionObjects,
    ):
        self._repository = repository
        self._training = training
        self._evaluations = evaluations
        self._objects = objects
        self._datasets: Lru[tuple[str, str], tr.Dataset] = Lru(DATASET_CACHE_SIZE)

    def _dataset(self, tenant: str, name: str) -> tr.Dataset:
        """A READY dataset of a run just read: a READY dataset never changes, so it is
        kept (bounded, per tenant) and later registrations from its runs skip GetDataset.
        The run itself is read every time, so a deleted run is still NOT_FOUND."""
        key = (tenant, name)
        dataset = self._datasets.get(key)
        if dataset is None:
            dataset = self._training.get_dataset(tenant, name)
            if dataset.state == tr.DATASET_STATE_READY:
                self._datasets.put(key, dataset)
        return dataset

    def register(
        self, tenant: str, model: str, source_model: str, description: str, tags: dict[str, str], model_description: str
    ) -> ModelVersion:
        """The next version of `model` (created when absent) from a SUCCEEDED run's model.

        Raises InvalidArgument, NotFound (run or model), FailedPrecondition (not
        SUCCEEDED), Unavailable (training or evaluation service).
        """
        run_name = _parse_source(source_model)
        check_labels(description, tags, "model_version")
        check_labels(model_description, None, "registered_model")
        run = self._training.get_run(tenant, run_name)
        if run.state != tr.RUN_STATE_SUCCEEDED:
            raise FailedPrecondition(
                f"{run_name} is {tr.RunState.Name(run.state)}; only models of SUCCEEDED runs can be registered",
                run_name,
            )
        result = next((m for m in run.models if m.name == source_model), None)
        if result is None:
            raise NotFound(source_model)
        if result.state != tr.MODEL_STATE_SUCCEEDED:
            raise FailedPrecondition(
                f"{source_model} is {tr.ModelState.Name(result.state)}, not SUCCEEDED", source_model
            )
        dataset = self._dataset(tenant, run.dataset)
        lineage = lineage_of(run, result, dataset)
        evaluation = self._evaluations.newest_covering(tenant, run.name, source_model)
        if evaluation is not None:
            lineage.evaluation = evaluation.name
            lineage.metrics.extend(model_metrics(evaluation, source_model))
            comparison = model_comparison(evaluation, source_model)
            if comparison is not None:
                lineage.baseline_comparison.CopyFrom(comparison)
        # The dataset's scaler records are the numbers its scalers.json holds: no third RPC.
        scalers = scalers_json(lineage)
        # The run names its artifact's object: copy it straight from the store (checked
        # against the run's size and SHA-256); through the training service only when
        # the store does not hold it.
        artifact = self._objects.read_source(result.artifact)
        if artifact is None:
            artifact = self._training.read_model_artifact(tenant, source_model)
        bundle = bundle_zip(registered_model_name(model), lineage, artifact, result.artifact_format, scalers)
        # Before the copies are written (the repository checks again, exactly, under the lock).
        self._repository.check_room(tenant, len(artifact) + len(bundle))
        prefix, artifact_ref, bundle_ref = self._objects.write(tenant, model, artifact, result.artifact_format, bundle)
        try:
            return self._repository.register(
                tenant,
                model,
                model_description,
                NewVersion(
                    source_model=source_model,
                    lineage=lineage.SerializeToString(),
                    model_type=result.model_type,
                    artifact_format=result.artifact_format,
                    formats=formats_for(result.model_type, result.artifact_format),
                    storage_prefix=prefix,
                    artifact=artifact_ref.SerializeToString(),
                    bundle=bundle_ref.SerializeToString(),
                    description=description,
                    tags=tags,
                ),
            )
        except BaseException:
            self._objects.delete(prefix)
            raise

    def resolve(self, tenant: str, ref: VersionRef) -> ModelVersion:
        """The version a numbered or alias name stands for. Raises NotFound."""
        if ref.version is not None:
            number = ref.version
        else:
            assert ref.alias is not None  # a VersionRef names a number or an alias
            number = self._repository.resolve_alias(tenant, ref.model, ref.alias)
        return self._repository.get_version(tenant, ref.model, number)

    def get_model(self, tenant: str, model: str) -> RegisteredModel:
        return self._repository.get_model(tenant, model)

    def list_models(self, tenant: str, limit: int, after: str | None, prefix: str, tag: str) -> list[RegisteredModel]:
        return self._repository.list_models(tenant, limit, after, prefix, tag)

    def update_model(self, tenant: str, model: str, description: str | None, tags: dict | None) -> RegisteredModel:
        check_labels(description, tags, "registered_model")
        return self._repository.update_model(tenant, model, description, tags)

    def delete_model(self, tenant: str, model: str, force: bool) -> None:
        for prefix in self._repository.delete_model(tenant, model, force):
            self._delete_objects(prefix)

    def list_versions(self, tenant: str, model: str, limit: int, before: int | None) -> list[ModelVersion]:
        return self._repository.list_versions(tenant, model, limit, before)

    def update_version(self, tenant: str, ref: VersionRef, description: str | None, tags: dict | None) -> ModelVersion:
        check_labels(description, tags, "model_version")
        version = self.resolve(tenant, ref)
        return self._repository.update_version(tenant, ref.model, version.version, description, tags)

    def delete_version(self, tenant: str, model: str, version: int) -> None:
        self._delete_objects(self._repository.delete_version(tenant, model, version))

    def set_alias(self, tenant: str, model: str, alias: str, version: int) -> RegisteredModel:
        return self._repository.set_alias(tenant, model, alias, version)

    def delete_alias(self, tenant: str, model: str, alias: str) -> RegisteredModel:
        return self._repository.delete_alias(tenant, model, alias)

    def _delete_objects(self, prefix: str) -> None:
        # After the rows are gone: a failure here leaves unreachable objects, never a
        # version without its artifacts.
        try:
            self._objects.delete(prefix)
        except Exception:
            log.exception("could not delete the objects under %s", prefix)
