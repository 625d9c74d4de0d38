"""A session's DatasetSpec: defaults filled in, every problem found at once.

The spec stays the proto message (it is the user's recipe, stored as proto3 JSON);
this module is the one place that knows its defaults and bounds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tsforge.common.v1 import common_pb2
from tsforge.core.errors import FieldViolation
from tsforge.training.v1 import training_resources_pb2 as tr
from tsforge.upload.v1 import upload_service_pb2 as upload_pb

MAX_STEPS = 4096
# Scaled values are float32 arrays fed to the models: a range far wider has no use and overflows.
MAX_SCALED = 1e6
DEFAULT_WINDOW = (24, 24, 60, 0)  # input_steps, output_steps, step_minutes, offset_minutes
DEFAULT_SPLIT = (0.7, 0.2, 0.1)
FEATURE_NAME = re.compile(r"[A-Za-z0-9_.:\- ]{1,100}")

FileLookup = Callable[[str], "upload_pb.File | None"]


def with_defaults(spec: tr.DatasetSpec) -> tr.DatasetSpec:
    """A copy of `spec` with every unset value replaced by its default."""
    spec = tr.DatasetSpec.FromString(spec.SerializeToString())
    for role, features in (
        (common_pb2.FEATURE_ROLE_INPUT, spec.inputs),
        (common_pb2.FEATURE_ROLE_OUTPUT, spec.outputs),
    ):
        for feature in features:
            if not feature.HasField("horizon"):
                feature.horizon.start, feature.horizon.end = (
                    (-24, 0) if role == common_pb2.FEATURE_ROLE_INPUT else (0, 24)
                )
            if feature.resampling == common_pb2.RESAMPLING_METHOD_UNSPECIFIED:
                feature.resampling = common_pb2.RESAMPLING_METHOD_LINEAR
            if not feature.HasField("scaling"):
                feature.scaling.min, feature.scaling.max = 0.0, 1.0
    window = spec.window
    defaults = dict(zip(("input_steps", "output_steps", "step_minutes"), DEFAULT_WINDOW))
    for field, default in defaults.items():
        if getattr(window, field) == 0:
            setattr(window, field, default)
    split = spec.split
    if (split.train_fraction, split.validation_fraction, split.test_fraction) == (0, 0, 0):
        split.train_fraction, split.validation_fraction, split.test_fraction = DEFAULT_SPLIT
    if split.method == tr.SPLIT_METHOD_UNSPECIFIED:
        split.method = tr.SPLIT_METHOD_CHRONOLOGICAL
    if not spec.calendar.time_zone:
        spec.calendar.time_zone = "UTC"
    if not spec.future_calendar.time_zone:
        spec.future_calendar.time_zone = "UTC"
    for lag in spec.lags:
        _lag_defaults(spec, lag)
    return spec


def _lag_defaults(spec: tr.DatasetSpec, lag: tr.LagFeature) -> None:
    """Fills a lag's file and column (the first output's), resampling (the feature that
    reads the same column, else LINEAR), scaling (0..1) and name. The file's only column
    and the name from a lookup are filled by validate()."""
    if not lag.file and spec.outputs:
        lag.file, lag.column = spec.outputs[0].file, lag.column or spec.outputs[0].column
    source = next((f for f in (*spec.inputs, *spec.outputs) if (f.file, f.column) == (lag.file, lag.column)), None)
    if lag.resampling == common_pb2.RESAMPLING_METHOD_UNSPECIFIED:
        lag.resampling = source.resampling if source is not None else common_pb2.RESAMPLING_METHOD_LINEAR
    if lag.resampling == common_pb2.RESAMPLING_METHOD_UNSPECIFIED:
        lag.resampling = common_pb2.RESAMPLING_METHOD_LINEAR
    if not lag.HasField("scaling"):
        lag.scaling.min, lag.scaling.max = 0.0, 1.0
    if not lag.feature and source is not None and source.feature:
        lag.feature = lag_name(source.feature, lag.lag_hours)


def lag_name(source: str, lag_hours: float) -> str:
    """The default name of a lag feature, e.g. "load.lag_168h"."""
    return f"{source}.lag_{lag_hours:g}h"


def validate(spec: tr.DatasetSpec, lookup: FileLookup, prefix: str = "session.spec") -> list[FieldViolation]:
    """Every problem of a defaulted spec, each as a field violation. Files are looked up
    with `lookup(name)`, which returns the caller's file or None."""
    problems: list[FieldViolation] = []

    def bad(path: str, description: str) -> None:
        problems.append(FieldViolation(f"{prefix}.{path}", description))

    for group, features in (("inputs", spec.inputs), ("outputs", spec.outputs)):
        if not features:
            bad(group, "at least one feature is required")
        names: set[str] = set()
        for i, feature in enumerate(features):
            path = f"{group}[{i}]"
            _validate_feature(feature, path, lookup, bad)
            if feature.feature in names:
                bad(f"{path}.feature", f"{feature.feature!r} is used twice among the {group}")
            names.add(feature.feature)

    window = spec.window
    for field in ("input_steps", "output_steps"):
        if not 1 <= getattr(window, field) <= MAX_STEPS:
            bad(f"window.{field}", f"must be between 1 and {MAX_STEPS}")
    if window.step_minutes <= 0:
        bad("window.step_minutes", "must be greater than 0")
    if not 0 <= window.offset_minutes < max(window.step_minutes, 1):
        bad("window.offset_minutes", "must be at least 0 and less than step_minutes")

    for field in ("calendar", "future_calendar"):
        calendar = getattr(spec, field)
        try:
            ZoneInfo(calendar.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            bad(f"{field}.time_zone", f"{calendar.time_zone!r} is not an IANA time zone name")
        if calendar.holiday:
            _validate_holidays(calendar, lambda path, text, field=field: bad(f"{field}.{path}", text))
        elif calendar.holiday_country or calendar.holiday_subdivision:
            bad(f"{field}.holiday", "set holiday to use holiday_country / holiday_subdivision")

    _validate_lags(spec, lookup, bad)

    split = spec.split
    fractions = (split.train_fraction, split.validation_fraction, split.test_fraction)
    for name, value in zip(("train_fraction", "validation_fraction", "test_fraction"), fractions):
        if not (0 < value < 1) or not math.isfinite(value):
            bad(f"split.{name}", "must be greater than 0 and less than 1")
    if abs(sum(fractions) - 1.0) > 1e-9:
        bad("split", f"the fractions sum to {sum(fractions):g}, not 1")
    return problems


def _validate_feature(feature: tr.FeatureSpec, path: str, lookup: FileLookup, bad) -> None:
    if not feature.file:
        bad(f"{path}.file", "a file resource name is required")
    else:
        found = lookup(feature.file)
        if found is None:
            bad(f"{path}.file", f"{feature.file} not found")
        else:
            columns = [c.name for c in found.profile.columns]
            if not feature.column:
                if len(columns) == 1:
                    feature.column = columns[0]
                else:
                    bad(f"{path}.column", f"the file has {len(columns)} value columns: name one of {columns}")
            elif feature.column not in columns:
                bad(f"{path}.column", f"{feature.column!r} is not a value column of the file ({columns})")
            if not feature.feature:
                feature.feature = feature.column or found.display_name
    if feature.feature and not FEATURE_NAME.fullmatch(feature.feature):
        bad(f"{path}.feature", "1-100 letters, digits, spaces or _ . : -")
    if not feature.horizon.start < feature.horizon.end:
        bad(f"{path}.horizon", "start must be before end")
    if (
        not (math.isfinite(feature.horizon.start) and math.isfinite(feature.horizon.end))
        or max(abs(feature.horizon.start), abs(feature.horizon.end)) > 24 * 366
    ):
        bad(f"{path}.horizon", "must lie within a year of the reference time")
    if feature.resampling not in (
        common_pb2.RESAMPLING_METHOD_LINEAR,
        common_pb2.RESAMPLING_METHOD_MEAN,
        common_pb2.RESAMPLING_METHOD_NEAREST,
    ):
        bad(f"{path}.resampling", "must be LINEAR, MEAN or NEAREST")
    if not feature.scaling.min < feature.scaling.max:
        bad(f"{path}.scaling", "min must be less than max")
    elif max(abs(feature.scaling.min), abs(feature.scaling.max)) > MAX_SCALED:
        bad(f"{path}.scaling", f"min and max must lie within -{MAX_SCALED:g}..{MAX_SCALED:g}")


MAX_LAGS = 16


def _validate_lags(spec: tr.DatasetSpec, lookup: FileLookup, bad) -> None:
    """Every lag: a file and column that exist, a unique name, and a lag known at the
    reference time (at least the end of every output horizon, at most a year)."""
    if len(spec.lags) > MAX_LAGS:
        bad("lags", f"at most {MAX_LAGS} lag features, got {len(spec.lags)}")
    horizon_end = max((f.horizon.end for f in spec.outputs), default=0.0)
    names: set[str] = set()
    for i, lag in enumerate(spec.lags):
        path = f"lags[{i}]"
        if not lag.file:
            bad(f"{path}.file", "a file resource name is required (or an output feature to default to)")
        else:
            found = lookup(lag.file)
            if found is None:
                bad(f"{path}.file", f"{lag.file} not found")
            else:
                columns = [c.name for c in found.profile.columns]
                if not lag.column:
                    if len(columns) == 1:
                        lag.column = columns[0]
                    else:
                        bad(f"{path}.column", f"the file has {len(columns)} value columns: name one of {columns}")
                elif lag.column not in columns:
                    bad(f"{path}.column", f"{lag.column!r} is not a value column of the file ({columns})")
                if not lag.feature:
                    key = (lag.file, lag.column)
                    same = [f.feature for f in (*spec.inputs, *spec.outputs) if (f.file, f.column) == key]
                    source = same[0] if same else lag.column or found.display_name
                    lag.feature = lag_name(source, lag.lag_hours)
        if not (math.isfinite(lag.lag_hours) and 0 < lag.lag_hours <= 24 * 366):
            bad(f"{path}.lag_hours", "must be greater than 0 and at most a year")
        elif lag.lag_hours < horizon_end - 1e-9:
            bad(
                f"{path}.lag_hours",
                f"a lag of {lag.lag_hours:g} h is not known at the reference time for output steps up to "
                f"{horizon_end:g} h ahead: use at least {horizon_end:g} h",
            )
        if lag.feature and not FEATURE_NAME.match(lag.feature):
            bad(f"{path}.feature", "1-100 letters, digits, spaces or _ . : -")
        if lag.feature in names:
            bad(f"{path}.feature", f"{lag.feature!r} is used twice among the lags")
        names.add(lag.feature)
        if lag.resampling not in (
            common_pb2.RESAMPLING_METHOD_LINEAR,
            common_pb2.RESAMPLING_METHOD_MEAN,
            common_pb2.RESAMPLING_METHOD_NEAREST,
        ):
            bad(f"{path}.resampling", "must be LINEAR, MEAN or NEAREST")
        if not lag.scaling.min < lag.scaling.max:
            bad(f"{path}.scaling", "min must be less than max")


def _validate_holidays(calendar: tr.CalendarFeatures, bad) -> None:
    """`bad(path, text)` with paths relative to the calendar message."""
    import holidays  # the holidays package: imported only when a spec asks for it

    if not calendar.holiday_country:
        bad("holiday_country", "required when holiday is on")
        return
    if calendar.holiday_country not in holidays.list_supported_countries():
        bad("holiday_country", f"{calendar.holiday_country!r} is not a country the holidays package knows")
        return
    try:
        holidays.country_holidays(calendar.holiday_country, subdiv=calendar.holiday_subdivision or None)
    except NotImplementedError as error:  # how the package refuses an unknown subdivision
        bad("holiday_subdivision", str(error))
