"""Public-like series for the forecast-quality benchmark, generated here (seeded), so the
numbers are reproducible without shipping data.

- electricity load, half-hourly, 16 weeks from 2023-10-02: a daily profile with a
  morning and an evening peak, a weekly one (Saturdays lower, Sundays and Austrian
  public holidays lowest, with a later morning), heating load from a synthetic outdoor
  temperature, a slowly wandering level, and AR(1) noise (phi 0.9 per half hour, about
  2 MW): a
  double-seasonal series where "the same half-hour last week" is a strong baseline.
- outdoor temperature, hourly, 14 weeks from 2023-09-01: a daily cycle whose amplitude
  follows the weather, multi-day weather swings (AR(1), phi 0.985 per hour) and autumn
  cooling, so that the last weeks (the test split) fall partly below the range of
  the first 70 % (the training split): a smooth series where linear models on lags do
  well and trees cannot extrapolate.
- tsforge/samples/electric_load.csv: two weeks of 15-minute load (and temperature),
  shipped with the project.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import holidays
import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SeriesData:
    name: str
    times: np.ndarray  # datetime64[ns], UTC
    values: np.ndarray  # float64
    column: str
    step_minutes: int


def synthetic_load(weeks: int = 16, seed: int = 7) -> SeriesData:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2023-10-02", periods=weeks * 7 * 48, freq="30min", tz="Europe/Vienna")
    hours = times.hour + times.minute / 60
    weekday = times.dayofweek.to_numpy()
    austrian = holidays.country_holidays("AT", years=sorted(set(times.year)))
    holiday = np.array([day in austrian for day in times.date])
    sunday_like = (weekday == 6) | holiday
    saturday = (weekday == 5) & ~holiday
    # Daily profile (MW): night trough, morning and evening peaks; later and lower on weekends.
    morning_peak = np.where(sunday_like, 10.5, np.where(saturday, 9.5, 8.0))
    profile = (
        55
        + 22 * np.exp(-(((hours - morning_peak) / 2.2) ** 2))
        + 28 * np.exp(-(((hours - 18.5) / 2.5) ** 2))
        + 12 * ((hours > 7) & (hours < 17))
    )
    profile = profile * np.where(sunday_like, 0.72, np.where(saturday, 0.85, 1.0))
    # Heating from a smooth outdoor temperature (autumn into winter).
    days = np.arange(len(times)) / 48
    weather = _ar1(rng, len(times), 0.999, 0.08)  # about 2 °C, over weeks
    outdoor = 14 - 10 * days / days[-1] + 4 * np.sin(2 * np.pi * (hours - 15) / 24) + weather
    heating = 1.8 * np.clip(15 - outdoor, 0, None)
    level = np.cumsum(rng.normal(0, 0.03, len(times)))
    noise = _ar1(rng, len(times), 0.9, 0.8)
    values = profile + heating + level + noise
    return SeriesData("load", times.tz_convert("UTC").tz_localize(None).to_numpy(), values, "load_mw", 30)


def synthetic_temperature(weeks: int = 14, seed: int = 11) -> SeriesData:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2023-09-01", periods=weeks * 7 * 24, freq="60min", tz="UTC")
    hours = np.arange(len(times))
    weather = _ar1(rng, len(times), 0.985, 0.45)
    cooling = 16 - 11 * (hours / hours[-1]) ** 1.5
    amplitude = 4 + 1.5 * np.tanh(-weather / 3)  # cloudy (warm anomaly) days swing less
    daily = amplitude * np.sin(2 * np.pi * (hours % 24 - 9) / 24)
    values = 9 / 5 * (cooling + weather + daily + rng.normal(0, 0.15, len(times))) + 32  # °F, as in the issue
    return SeriesData("temperature", times.tz_localize(None).to_numpy(), values, "temperature_f", 60)


def sample_load() -> SeriesData:
    with resources.files("tsforge.samples").joinpath("electric_load.csv").open() as handle:
        frame = pd.read_csv(handle, sep=";", parse_dates=["timestamp"])
    return SeriesData("sample", frame["timestamp"].to_numpy(), frame["load_mw"].to_numpy(float), "load_mw", 15)


def csv_bytes(series: SeriesData) -> bytes:
    frame = pd.DataFrame({"timestamp": pd.to_datetime(series.times), series.column: series.values})
    return frame.to_csv(sep=";", index=False, date_format="%Y-%m-%d %H:%M:%S", float_format="%.4f").encode()


def _ar1(rng: np.random.Generator, count: int, phi: float, sigma: float) -> np.ndarray:
    shocks = rng.normal(0, sigma, count)
    values = np.empty(count)
    values[0] = shocks[0] / np.sqrt(1 - phi**2)
    for t in range(1, count):
        values[t] = phi * values[t - 1] + shocks[t]
    return values
