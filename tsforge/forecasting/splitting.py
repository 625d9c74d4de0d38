"""Dividing samples into training, validation and test sets."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """Sample indices (int64, increasing) of each split."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def split_indices(
    count: int,
    train_fraction: float = 0.7,
    validation_fraction: float = 0.2,
    test_fraction: float = 0.1,
    *,
    shuffle: bool = False,
    seed: int = 0,
) -> Split:
    """Assigns `count` samples (in chronological order) to the three splits.

    Chronological: the first round(count * train_fraction) samples train, the next ones
    up to round(count * (train + validation)) validate, the rest test. Shuffled: the same
    cut applied to np.random.default_rng(seed).permutation(count), so the same seed gives
    the same split; each split's indices are then sorted, keeping every split in
    chronological order.

    Raises ValueError unless train_fraction > 0, the others >= 0 (zero empties that
    split, as the proto allows) and the three sum to 1 within 1e-9.
    """
    fractions = (train_fraction, validation_fraction, test_fraction)
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    if not all(math.isfinite(fraction) for fraction in fractions):
        raise ValueError(f"split fractions must be finite, got {fractions}")
    if train_fraction <= 0 or validation_fraction < 0 or test_fraction < 0:
        raise ValueError(f"train_fraction must be > 0 and the others >= 0, got {fractions}")
    if abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"split fractions must sum to 1, got {fractions} (sum {sum(fractions)!r})")
    train_end = round(count * train_fraction)
    validation_end = max(train_end, min(count, round(count * (train_fraction + validation_fraction))))
    order = np.random.default_rng(seed).permutation(count) if shuffle else np.arange(count)
    parts = np.split(order, [train_end, validation_end])
    if shuffle:
        parts = [np.sort(part) for part in parts]
    return Split(*(part.astype(np.int64) for part in parts))
