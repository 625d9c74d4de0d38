"""Batch throttling and the EpochMetrics an epoch becomes."""

from __future__ import annotations

from tsforge.forecasting.estimators.progress import BatchThrottle, EpochResult


def test_throttle_lets_the_first_report_through_then_one_per_interval():
    now = [100.0]
    throttle = BatchThrottle(interval_seconds=1.0, clock=lambda: now[0])
    passed = []
    for tick in range(30):  # 0.1 s apart: 3 seconds
        now[0] = 100.0 + tick / 10
        passed.append(throttle.ready())
    assert [tick for tick, ok in enumerate(passed) if ok] == [0, 10, 20]


def test_epoch_result_becomes_epoch_metrics_with_unset_validation_when_absent():
    with_validation = EpochResult(epoch=3, loss=0.25, val_loss=0.36, rmse=0.5, val_rmse=0.6, duration_seconds=1.5)
    without = EpochResult(epoch=1, loss=0.25, val_loss=None, rmse=0.5, val_rmse=None, duration_seconds=0.25)

    metrics = with_validation.to_proto()
    assert (metrics.epoch, metrics.loss, metrics.val_loss, metrics.rmse, metrics.val_rmse) == (3, 0.25, 0.36, 0.5, 0.6)
    assert metrics.duration.ToMilliseconds() == 1500
    bare = without.to_proto()
    assert not bare.HasField("val_loss") and not bare.HasField("val_rmse")
    assert bare.duration.ToMilliseconds() == 250
