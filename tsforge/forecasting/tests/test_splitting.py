"""Train/validation/test split: fractions, order, seeded shuffles, bad input."""

import numpy as np
import pytest

from tsforge.forecasting.splitting import split_indices


def test_default_fractions_are_seventy_twenty_ten_in_chronological_order():
    split = split_indices(1000)
    assert split.train.tolist() == list(range(700))
    assert split.validation.tolist() == list(range(700, 900))
    assert split.test.tolist() == list(range(900, 1000))


@pytest.mark.parametrize("count", [0, 1, 2, 7, 10, 999, 1001])
@pytest.mark.parametrize("fractions", [(0.7, 0.2, 0.1), (0.5, 0.25, 0.25), (0.8, 0.0, 0.2), (1.0, 0.0, 0.0)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_lands_in_exactly_one_split_in_the_asked_proportion(count, fractions, shuffle):
    split = split_indices(count, *fractions, shuffle=shuffle, seed=11)
    together = np.concatenate([split.train, split.validation, split.test])
    assert sorted(together.tolist()) == list(range(count))
    for part, fraction in zip((split.train, split.validation, split.test), fractions, strict=True):
        assert abs(len(part) - count * fraction) <= 1
        assert np.all(np.diff(part) > 0)


def test_chronological_split_keeps_validation_after_train_and_test_last():
    split = split_indices(50, 0.6, 0.3, 0.1)
    assert split.train.max() < split.validation.min() < split.validation.max() < split.test.min()


def test_shuffled_split_is_reproducible_by_seed_and_mixes_time():
    first = split_indices(500, shuffle=True, seed=42)
    again = split_indices(500, shuffle=True, seed=42)
    other = split_indices(500, shuffle=True, seed=43)
    for a, b in zip(
        (first.train, first.validation, first.test), (again.train, again.validation, again.test), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.test, other.test)
    assert first.test.max() > 450 and first.test.min() < 50  # test samples from all over the series
    expected = np.sort(np.random.default_rng(42).permutation(500)[:350])
    np.testing.assert_array_equal(first.train, expected)


@pytest.mark.parametrize(
    "fractions",
    [
        (0.7, 0.2, 0.2),
        (0.5, 0.2, 0.2),
        (0.0, 0.5, 0.5),
        (1.2, -0.1, -0.1),
        (float("nan"), 0.5, 0.5),
        (0.7, 0.2, 0.1 + 1e-8),
    ],
)
def test_invalid_fractions_raise(fractions):
    with pytest.raises(ValueError, match="fraction"):
        split_indices(100, *fractions)


def test_fractions_within_a_billionth_of_one_are_accepted():
    split = split_indices(10, 0.7, 0.2, 0.1 + 5e-10)
    assert (len(split.train), len(split.validation), len(split.test)) == (7, 2, 1)
