"""A dataset's spec as the contract carries it (tsforge.training.v1 messages) turned into
the library's specs: one conversion, used by dataset builds, the registry's Predict and
anything else that must cut windows exactly as a build did."""

from __future__ import annotations

from collections.abc import Iterable

from tsforge.common.v1 import common_pb2
from tsforge.forecasting.calendar import CalendarSpec
from tsforge.forecasting.resampling import ResamplingMethod
from tsforge.forecasting.scaling import FeatureScaler, MinMaxScalers
from tsforge.forecasting.windowing import FeatureSpec, WindowSpec, lag_spec
from tsforge.training.v1 import training_resources_pb2 as tr

RESAMPLING_METHODS = {
    common_pb2.RESAMPLING_METHOD_LINEAR: ResamplingMethod.LINEAR,
    common_pb2.RESAMPLING_METHOD_MEAN: ResamplingMethod.MEAN,
    common_pb2.RESAMPLING_METHOD_NEAREST: ResamplingMethod.NEAREST,
}


def feature_spec(feature: tr.FeatureSpec) -> FeatureSpec:
    """The windowing spec of a session's feature: name, horizon, resampling and scaling range.

    Raises KeyError for an unspecified resampling method (specs are defaulted first).
    """
    return FeatureSpec(
        name=feature.feature,
        start_hours=feature.horizon.start,
        end_hours=feature.horizon.end,
        method=RESAMPLING_METHODS[feature.resampling],
        scale_min=feature.scaling.min,
        scale_max=feature.scaling.max,
    )


def lag_window_spec(spec: tr.DatasetSpec, lag: tr.LagFeature) -> FeatureSpec:
    """The window spec of a lag feature of `spec`: its resampling and scaling range over
    the first output's horizon moved lag_hours back (windowing.lag_spec). Raises
    ValueError for a lag not known at the reference time."""
    method = RESAMPLING_METHODS.get(lag.resampling, ResamplingMethod.LINEAR)
    source = FeatureSpec(lag.feature, 0, 1, method, lag.scaling.min, lag.scaling.max)
    if not lag.HasField("scaling"):
        source = FeatureSpec(lag.feature, 0, 1, method)
    return lag_spec(lag.feature, source, feature_spec(spec.outputs[0]), lag.lag_hours)


def lag_source_name(spec: tr.DatasetSpec, lag: tr.LagFeature) -> str:
    """The name under which a lag's source series is read at prediction time: the input,
    else the output feature that reads the same file and column, else the lag's own name."""
    for feature in (*spec.inputs, *spec.outputs):
        if (feature.file, feature.column) == (lag.file, lag.column):
            return feature.feature
    return lag.feature


def window_spec(window: tr.WindowConfig) -> WindowSpec:
    return WindowSpec(window.input_steps, window.output_steps, window.step_minutes, window.offset_minutes)


def calendar_spec(calendar: tr.CalendarFeatures) -> CalendarSpec:
    """The calendar columns of a session's settings (UTC when no zone is set)."""
    return CalendarSpec(
        year=calendar.year,
        month=calendar.month,
        week=calendar.week,
        day=calendar.day,
        holiday=calendar.holiday,
        holiday_country=calendar.holiday_country,
        holiday_subdivision=calendar.holiday_subdivision,
        time_zone=calendar.time_zone or "UTC",
    )


def future_calendar_spec(spec: tr.DatasetSpec) -> CalendarSpec | None:
    """The calendar columns at the output steps, or None when the spec asks for none."""
    future = calendar_spec(spec.future_calendar)
    return future if future.column_names() else None


def scalers_from_protos(scalers: Iterable[tr.FeatureScaler]) -> MinMaxScalers:
    """The fitted scalers a Dataset (or a registered version's lineage) lists: inputs,
    outputs, then lag features."""
    scalers = list(scalers)

    def of(role: int) -> tuple[FeatureScaler, ...]:
        return tuple(
            FeatureScaler(s.feature, s.data_min, s.data_max, s.data_mean, s.range.min, s.range.max)
            for s in scalers
            if s.role == role
        )

    return MinMaxScalers(
        inputs=of(common_pb2.FEATURE_ROLE_INPUT),
        outputs=of(common_pb2.FEATURE_ROLE_OUTPUT),
        lags=of(common_pb2.FEATURE_ROLE_LAG),
    )


def scaler_protos(scalers: MinMaxScalers) -> list[tr.FeatureScaler]:
    """The Dataset's FeatureScaler messages of fitted scalers, inputs then outputs."""
    return [
        tr.FeatureScaler(
            feature=s.feature,
            role=role,
            data_min=s.data_min,
            data_max=s.data_max,
            data_mean=s.data_mean,
            range=common_pb2.ScalingRange(min=s.range_min, max=s.range_max),
        )
        for role, fitted in (
            (common_pb2.FEATURE_ROLE_INPUT, scalers.inputs),
            (common_pb2.FEATURE_ROLE_OUTPUT, scalers.outputs),
            (common_pb2.FEATURE_ROLE_LAG, scalers.lags),
        )
        for s in fitted
    ]
