"""`python -m bench`: every benchmark, each against its baseline from the same run, as one table.

    python -m bench                 # full sizes, a few minutes on 2 cores
    python -m bench --quick         # small sizes, a smoke run
    python -m bench --only upload   # or rss, profiling, gateway, streams, windowing, training, evaluation, models
                                    # (--only may be repeated)
    python -m bench --only forecast # forecast quality: the automatic preset on three series
                                    # against baselines and peers (about 30 minutes; not in the default set)

Needs PostgreSQL (TSFORGE_BENCH_DATABASE_URL, default postgres@127.0.0.1:5432) for a
throw-away database, and moto (a test dependency) for the S3 rows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import (
    evaluation_job,
    evaluation_metrics,
    evaluation_plots,
    forecast_quality,
    gateway,
    profiling,
    streams,
    training,
    windowing,
)
from bench import models as models_bench
from bench.harness import StoreSpec, moto_s3, temporary_database
from bench.upload import RssGrowth, UploadTiming, rss_growth, upload_throughput

MIB = 1 << 20
UPLOAD_RATIO_GOAL = 0.7
RSS_GROWTH_GOAL_MIB = 100
PROFILE_GOAL_MB_S = 50
PLATFORM_OVERHEAD_GOAL = 1.15
EVENT_LATENCY_GOAL_MS = 100
BENCHMARKS = (
    "upload",
    "rss",
    "profiling",
    "gateway",
    "streams",
    "windowing",
    "training",
    "evaluation",
    "models",
    "forecast",
)
DEFAULT_BENCHMARKS = tuple(b for b in BENCHMARKS if b != "forecast")
# From the issue, measured on this kind of machine; printed for scale, not measured here.
MLFLOW_REFERENCE = (("local directory", 92), ("moto S3 server", 40))
NOTES = """\
Upload: the whole call runs from the first request until the File comes back, so it
includes the service's completion step (resumable: assemble the parts; both: SHA-256 and
CSV profile, done while the bytes arrive by the replica that takes them). "sent": until
gRPC took the last chunk (UploadFile) or the last WriteUploadChunk returned (resumable);
the completion is the rest. gRPC flow control lets an UploadFile client run some MiB
ahead of the service (more into S3, where the service stops reading while two 8 MiB parts
are in flight), so there "sent" understates the transfer time and "completion"
overstates it. "checksum + profile alone": that step timed again on the stored object in
the bench process; "bound": the ratio a call would reach if that step were all it did.
Baseline: store.put of the same bytes from 1 MiB chunks in the bench process. The service
runs in a process of its own; client chunks are 1 MiB for UploadFile and 5 MiB (as
`tsforge upload` sends) for the resumable flow. RSS: the server process after a 1 MiB
warm-up upload, then its peak (psutil every 50 ms, and the kernel's VmHWM) during the
whole call."""
TRAINING_NOTES = """\
Training: one spawned worker process; the upload and training services run in the bench
process, which is idle while the worker trains. Before timing, the worker has trained a
tiny run (so it has imported TensorFlow) and the bench process has trained once too, with
the worker's TensorFlow thread count. Platform: CreateRun until the run's terminal event
reaches a WatchRun client (includes the worker's idle queue poll, up to 0.5 s, the dataset
load, one event transaction per epoch and per throttled batch report, and after the fit
the .keras artifact, predictions on every split into the store, and the closing events).
Bare: tsforge.forecasting.estimators.trainer.train_model, as the worker calls it (same spec,
seed, callbacks, artifact serialisation), on the same arrays read from the dataset's
.npz beforehand. Platform and bare alternate; medians. Event latency: a WatchRun client's
arrival time minus the event's own `time`, which the worker sets inside the transaction
that appends it (so commit, NOTIFY, the service's read and gRPC are counted)."""


@dataclass(frozen=True)
class Row:
    benchmark: str
    measured: str
    baseline: str = "-"
    ratio: str = "-"
    goal: str = "-"
    met: str = ""


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    only = set(arguments.only or DEFAULT_BENCHMARKS)
    quick = arguments.quick
    local_mib = arguments.local_mib or (16 if quick else 256)
    s3_mib = arguments.s3_mib or (8 if quick else 128)
    rss_mib = arguments.rss_mib or (64 if quick else 1024)
    profile_rows = 300_000 if quick else 1_000_000
    window_rows = 100_000 if quick else 1_000_000
    training_sizes = training.QUICK if quick else training.FULL

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tsforge-bench-") as temporary:
        folder = Path(temporary)
        if only & {"upload", "rss"}:
            with temporary_database() as database_url:
                if "upload" in only:
                    _progress(f"upload throughput into the local store, {local_mib} MiB")
                    timings = upload_throughput(
                        database_url, StoreSpec(local_root=folder / "objects"), local_mib * MIB, folder
                    )
                    _progress(f"upload throughput into moto S3, {s3_mib} MiB")
                    with moto_s3(folder) as s3:
                        timings += upload_throughput(database_url, s3, s3_mib * MIB, folder)
                    rows += [row for timing in timings for row in _upload_rows(timing)]
                    rows += [
                        Row(
                            f"reference: MLflow 3.17 proxied upload, 200 MiB -> {where}",
                            f"~{speed} MiB/s (issue, not measured)",
                        )
                        for where, speed in MLFLOW_REFERENCE
                    ]
                if "rss" in only:
                    _progress(f"upload service RSS during a {rss_mib} MiB UploadFile")
                    rows += _rss_row(rss_growth(database_url, folder, rss_mib * MIB))
        if "profiling" in only:
            _progress(f"CSV profiling, {profile_rows} rows")
            rows.append(_profiling_row(profile_rows, profiling.run(profile_rows)))
        if "gateway" in only:
            rows += [Row(**row) for row in gateway.run(quick)]
        if "streams" in only:
            _progress("unary latency with 0, 100 and 1,000 open streams")
            rows += [Row(**row) for row in streams.run(quick)]
        if "windowing" in only:
            _progress(f"windowing, {window_rows} rows")
            rows += [_windowing_row(result) for result in windowing.run(window_rows)]
        if "training" in only:
            _progress(f"training through the platform and bare, {training_sizes}")
            with temporary_database() as database_url:
                rows += _training_rows(*training.run(database_url, folder / "training", training_sizes))
        if "models" in only:
            _progress("model registry: downloads, Predict, list/get/alias/registration")
            rows += [Row(**row) for row in models_bench.run(quick)]
        if "evaluation" in only:
            _progress("evaluation metrics against plain numpy, and plot rendering")
            rows += [_evaluation_row(result) for result in evaluation_metrics.run(quick) + evaluation_plots.run(quick)]
            _progress("evaluations as jobs: CreateEvaluation's latency, the wall time until READY")
            rows += [Row(**row) for row in evaluation_job.run(quick)]
        forecasts = []
        if "forecast" in only:
            _progress("forecast quality: the automatic preset on three series, baselines and peers")
            with temporary_database() as database_url:
                forecasts = forecast_quality.run(database_url, folder / "forecast", quick)
            rows += [Row(**row) for row in forecast_quality.goal_rows(forecasts)]
    print(_table(rows))
    if forecasts:
        print(forecast_quality.table(forecasts))
        print("\n" + forecast_quality.__doc__)
    if only & {"upload", "rss"}:
        print("\n" + NOTES)
    if "training" in only:
        print("\n" + TRAINING_NOTES)
    return 0


def _upload_rows(timing: UploadTiming) -> list[Row]:
    mib = timing.size_bytes / MIB
    baseline = mib / timing.baseline_put_s
    whole = mib / timing.call_s
    sent = mib / timing.sent_s
    completion_s = timing.call_s - timing.sent_s
    put = f"{baseline:.1f} MiB/s put"
    return [
        Row(
            f"upload {timing.store} {timing.flow}, {mib:.0f} MiB, whole call ({timing.call_s:.1f} s)",
            f"{whole:.1f} MiB/s",
            put,
            f"{whole / baseline:.2f}",
            f">= {UPLOAD_RATIO_GOAL}",
            _yes_no(whole / baseline >= UPLOAD_RATIO_GOAL),
        ),
        Row(
            f"  until the last chunk was sent ({timing.sent_s:.1f} s)",
            f"{sent:.1f} MiB/s",
            put,
            f"{sent / baseline:.2f}",
            "(info)",
        ),
        Row(
            f"  completion after that ({completion_s:.1f} s); checksum + profile alone",
            f"{timing.checksum_profile_s:.1f} s",
            goal="(info)",
        ),
        # A call cannot return before its bytes are checksummed and profiled: even with the
        # transfer entirely hidden behind that step, the ratio is at most this.
        Row(
            "  bound while each upload is profiled before it returns: checksum + profile speed",
            f"{mib / timing.checksum_profile_s:.1f} MiB/s",
            put,
            f"{timing.baseline_put_s / timing.checksum_profile_s:.2f}",
            "(info)",
        ),
    ]


def _rss_row(rss: RssGrowth) -> list[Row]:
    growth = rss.growth / MIB
    kernel = "" if rss.rss_peak_kernel is None else f", VmHWM {rss.rss_peak_kernel / MIB:.0f}"
    return [
        Row(
            f"upload service RSS growth, {rss.size_bytes / MIB:.0f} MiB UploadFile -> local "
            f"({rss.call_s:.0f} s, {rss.samples} samples)",
            f"+{growth:.0f} MiB (peak {rss.rss_peak_sampled / MIB:.0f}{kernel})",
            f"{rss.rss_before / MIB:.0f} MiB before",
            "-",
            f"<= {RSS_GROWTH_GOAL_MIB} MiB",
            _yes_no(growth <= RSS_GROWTH_GOAL_MIB),
        ),
        Row(
            f"  while sending ({rss.sent_s:.0f} s)",
            f"+{(rss.rss_peak_while_sending - rss.rss_before) / MIB:.0f} MiB",
            goal="(info)",
        ),
    ]


def _profiling_row(rows: int, result: dict) -> Row:
    speed = result["mb_per_s"]
    return Row(
        f"profile {rows:,}-row 4-column CSV ({result['mb']} MB, {result['seconds']} s)",
        f"{speed} MB/s",
        goal=f">= {PROFILE_GOAL_MB_S} MB/s",
        met=_yes_no(speed >= PROFILE_GOAL_MB_S),
    )


def _windowing_row(result: dict) -> Row:
    # windowing.run gives the ratio as "times faster" for the loop and "times slower" for the copy.
    goal = result["goal"]
    met = _yes_no(result["ratio"] >= 50) if goal.startswith(">=") else ""
    return Row(result["name"], f"{result['measured']} s", f"{result['baseline']} s", f"{result['ratio']}", goal, met)


def _evaluation_row(result: dict) -> Row:
    ratio = result.get("ratio", "-")
    met = _yes_no(ratio <= evaluation_metrics.RATIO_GOAL) if isinstance(ratio, float) else ""
    return Row(
        result["name"],
        f"{result['measured']} s",
        f"{result['baseline']} s" if "baseline" in result and result["baseline"] != "-" else "-",
        str(ratio),
        result.get("goal", "(info)"),
        met,
    )


def _training_rows(fit: training.FitComparison, latency: training.EventLatency) -> list[Row]:
    ratio = fit.platform_s / fit.bare_s
    runs = f"median of {len(fit.platform)}" if len(fit.platform) > 1 else "1 run"
    platform_list = ", ".join(f"{p.wall_s:.2f}" for p in fit.platform)
    bare_list = ", ".join(f"{b.wall_s:.2f}" for b in fit.bare)
    fit_s = sum(p.fit_s for p in fit.platform)
    batch_events = sum(p.batch_events for p in fit.platform)
    batch_latencies = [s * 1000 for p in fit.platform for s in p.batch_latencies_s]
    platform_epoch = training.median(p.epoch_mean_s for p in fit.platform)
    bare_epoch = training.median(b.epoch_mean_s for b in fit.bare)
    rows = [
        Row(
            f"training run via platform vs bare train_model, Dense 2x64, {fit.train_samples:,} train + "
            f"{fit.validation_samples:,} val windows (96, 3), {fit.epochs} epochs, {runs}",
            f"{fit.platform_s:.2f} s",
            f"{fit.bare_s:.2f} s",
            f"{ratio:.3f}",
            f"<= {PLATFORM_OVERHEAD_GOAL}",
            _yes_no(ratio <= PLATFORM_OVERHEAD_GOAL),
        ),
        Row(f"  each run: platform [{platform_list}] s, bare [{bare_list}] s", "", goal="(info)"),
        Row(
            "  CreateRun -> model_started arrived (queue poll, claim, dataset load)",
            f"{training.median(p.until_model_started_s for p in fit.platform):.2f} s",
            goal="(info)",
        ),
        Row(
            "  model_started -> last epoch_end arrived (the fit)",
            f"{training.median(p.fit_s for p in fit.platform):.2f} s",
            goal="(info)",
        ),
        Row(
            "  last epoch_end -> terminal event (artifact, predictions, finish)",
            f"{training.median(p.after_fit_s for p in fit.platform):.2f} s",
            goal="(info)",
        ),
        Row(
            "  mean epoch duration, worker vs bare",
            f"{platform_epoch:.3f} s",
            f"{bare_epoch:.3f} s",
            f"{platform_epoch / bare_epoch:.3f}",
            "(info)",
        ),
        Row(
            f"event latency worker -> WatchRun client, epoch_end of {latency.epochs} tiny epochs "
            f"({latency.run_s:.1f} s run)",
            f"p50 {latency.p50_ms:.1f} ms, p99 {latency.p99_ms:.1f} ms",
            goal=f"p99 <= {EVENT_LATENCY_GOAL_MS} ms",
            met=_yes_no(latency.p99_ms <= EVENT_LATENCY_GOAL_MS),
        ),
        Row("  slowest epoch_end event", f"{latency.max_ms:.1f} ms", goal="(info)"),
        Row(
            f"batch_progress events during the fits ({batch_events} in {fit_s:.1f} s)",
            f"{batch_events / fit_s:.2f} /s",
            goal="(info; throttled to ~1/s)",
        ),
    ]
    if batch_latencies:
        p50, p99 = np.percentile(batch_latencies, [50, 99])
        rows.append(Row("  their latency to the WatchRun client", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms", goal="(info)"))
    return rows


def _table(rows: list[Row]) -> str:
    header = Row("benchmark", "measured", "baseline", "ratio", "goal", "met?")
    cells = [[row.benchmark, row.measured, row.baseline, row.ratio, row.goal, row.met] for row in [header, *rows]]
    widths = [max(len(line[column]) for line in cells) for column in range(len(cells[0]))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def _yes_no(met: bool) -> str:
    return "yes" if met else "NO"


def _progress(message: str) -> None:
    print(f"bench: {message} ...", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)")
    parser.add_argument("--local-mib", type=int, help="CSV size for the local-store uploads (default 256)")
    parser.add_argument("--s3-mib", type=int, help="CSV size for the S3 uploads (default 128)")
    parser.add_argument("--rss-mib", type=int, help="CSV size for the RSS benchmark (default 1024)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
