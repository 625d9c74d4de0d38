import numpy as np

from services.evaluation.comparison import mean_over_features, rank, skill, skill_scores
from services.evaluation.metrics import Metric, MetricValue, score

of, undefined = MetricValue.of, MetricValue.undefined


def test_skill_is_one_minus_the_error_ratio():
    assert skill(of(1.0), of(4.0)).value == 0.75
    assert skill(of(6.0), of(4.0)).value == -0.5
    assert skill(of(0.0), of(4.0)).value == 1.0


def test_skill_is_undefined_when_either_value_is_or_the_baseline_is_perfect():
    assert skill(of(1.0), of(0.0)) == undefined("baseline's error is 0")
    assert skill(undefined("actual values contain zeros (1 of 3)"), of(1.0)).undefined_reason == (
        "model: actual values contain zeros (1 of 3)"
    )
    assert skill(of(1.0), undefined("empty split")).undefined_reason == "baseline: empty split"


def test_skill_scores_cover_every_metric():
    actual = np.array([1.0, 2.0, 4.0]).reshape(3, 1, 1)
    model = score(actual, actual + 1).overall[0]
    baseline = score(actual, actual + 2).overall[0]
    skills = skill_scores(model, baseline)
    assert list(skills) == list(Metric)
    assert skills[Metric.MAE].value == 0.5
    assert skills[Metric.MSE].value == 0.75


def test_ranking_puts_undefined_last_and_lets_ties_share_a_rank_in_input_order():
    ranked = rank(
        {
            "a": of(2.0),
            "b": undefined("empty split"),
            "c": of(1.0),
            "d": of(2.0),
            "e": undefined("actual values contain zeros (1 of 3)"),
            "f": of(3.0),
        }
    )
    assert [(place.rank, place.key) for place in ranked] == [
        (1, "c"),
        (2, "a"),
        (2, "d"),
        (4, "f"),
        (5, "b"),
        (5, "e"),
    ]
    assert rank({}) == []


def test_mean_over_features_is_undefined_when_any_feature_is():
    assert mean_over_features([of(1.0), of(3.0)]).value == 2.0
    assert mean_over_features([of(1.0), undefined("empty split")]) == undefined("empty split")
    assert not mean_over_features([]).defined
