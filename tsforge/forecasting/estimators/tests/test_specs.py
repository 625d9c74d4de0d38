"""resolve_model_specs: defaults, bounds, ids, and no TensorFlow in the service process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tsforge.common.v1 import common_pb2
from tsforge.forecasting.estimators.specs import (
    ArLstmSpec,
    AutoArimaSpec,
    AutoEtsSpec,
    CnnSpec,
    DenseSpec,
    EnsembleSpec,
    InvalidModelSpecs,
    LightGbmSpec,
    LinearRegressionSpec,
    LstmSpec,
    ModelKind,
    MstlSpec,
    NeuralSpec,
    SeasonalNaiveSpec,
    SvrDirectSpec,
    SvrMimoSpec,
    require_model_specs,
    resolve_model_specs,
    to_proto,
)
from tsforge.training.v1 import training_resources_pb2 as pb


def spec(**params) -> pb.ModelSpec:
    return pb.ModelSpec(**params)


def test_empty_specs_get_every_default_and_positional_ids():
    specs = [
        spec(dense=pb.DenseParams()),
        spec(cnn=pb.CnnParams()),
        spec(lstm=pb.LstmParams()),
        spec(ar_lstm=pb.ArLstmParams()),
        spec(svr_direct=pb.SvrParams()),
        spec(svr_mimo=pb.SvrParams()),
        spec(linear_regression=pb.LinearRegressionParams()),
        spec(lightgbm=pb.LightGbmParams()),
        spec(mstl=pb.StatisticalParams()),
        spec(auto_ets=pb.StatisticalParams()),
        spec(auto_arima=pb.StatisticalParams()),
        spec(seasonal_naive=pb.StatisticalParams()),
        spec(ensemble=pb.EnsembleParams()),
    ]

    resolved, violations = resolve_model_specs(specs, input_steps=24)

    assert violations == []
    assert [m.model_id for m in resolved] == [f"model-{i}" for i in range(1, 14)]
    assert [m.kind for m in resolved] == list(ModelKind)
    # Sized for a CPU; the seed's 3 x 512 is still available explicitly.
    neural = NeuralSpec(
        layers=2, units=64, epochs=20, batch_size=32, learning_rate=0.001, activation="relu", early_stopping_patience=2
    )
    recurrent = NeuralSpec(layers=1, units=32)
    assert [m.params for m in resolved] == [
        DenseSpec(neural),
        CnnSpec(neural, kernel_size=3),
        LstmSpec(recurrent),
        ArLstmSpec(recurrent),
        SvrDirectSpec("poly", 1.0, 0.1),
        SvrMimoSpec("poly", 1.0, 0.1),
        LinearRegressionSpec(),
        LightGbmSpec(100, 0.1, 31, "direct", 10, 20),
        MstlSpec(),
        AutoEtsSpec(),
        AutoArimaSpec(),
        SeasonalNaiveSpec(),
        EnsembleSpec(tuple(f"model-{i}" for i in range(1, 13))),
    ]
    assert resolved[3].kind.proto == common_pb2.MODEL_TYPE_AR_LSTM


def test_given_values_are_kept_and_zero_patience_and_epsilon_are_not_defaults():
    resolved, violations = resolve_model_specs(
        [
            spec(
                model_id="my-cnn",
                display_name="CNN",
                seed=9,
                cnn=pb.CnnParams(
                    kernel_size=5,
                    neural=pb.NeuralParams(
                        layers=2,
                        units=64,
                        epochs=7,
                        batch_size=8,
                        learning_rate=0.01,
                        activation=pb.ACTIVATION_GELU,
                        early_stopping_patience=0,
                    ),
                ),
            ),
            spec(svr_mimo=pb.SvrParams(kernel=pb.SVR_KERNEL_RBF, c=3.5, epsilon=0.0)),
        ],
        input_steps=5,
    )

    assert violations == []
    cnn, svr = resolved
    assert (cnn.model_id, cnn.display_name, cnn.seed) == ("my-cnn", "CNN", 9)
    assert cnn.params == CnnSpec(NeuralSpec(2, 64, 7, 8, 0.01, "gelu", 0), kernel_size=5)
    assert svr.params == SvrMimoSpec("rbf", 3.5, 0.0)


def test_the_seed_systems_sizes_are_still_available():
    [model], violations = resolve_model_specs(
        [spec(lstm=pb.LstmParams(neural=pb.NeuralParams(layers=3, units=512)))], input_steps=24
    )
    assert violations == [] and (model.params.neural.layers, model.params.neural.units) == (3, 512)


def test_new_model_options_are_kept_and_bounded():
    resolved, violations = resolve_model_specs(
        [
            spec(
                model_id="gbm",
                lightgbm=pb.LightGbmParams(
                    n_estimators=300,
                    learning_rate=0.05,
                    num_leaves=15,
                    strategy=pb.LIGHT_GBM_STRATEGY_STEP_FEATURE,
                    early_stopping_rounds=0,
                    min_child_samples=5,
                ),
            ),
            spec(model_id="mstl", mstl=pb.StatisticalParams(season_hours=[24, 168], history_steps=2000)),
            spec(model_id="avg", ensemble=pb.EnsembleParams(members=["mstl", "gbm"])),
        ],
        input_steps=24,
    )
    assert violations == []
    assert resolved[0].params == LightGbmSpec(300, 0.05, 15, "step_feature", 0, 5)
    assert resolved[1].params == MstlSpec((24.0, 168.0), 2000, 0)
    assert resolved[2].params == EnsembleSpec(("mstl", "gbm"))
    assert require_model_specs([to_proto(m) for m in resolved], input_steps=24) == resolved

    _, violations = resolve_model_specs(
        [
            spec(model_id="avg", ensemble=pb.EnsembleParams(members=["later"])),
            spec(model_id="later", lightgbm=pb.LightGbmParams(n_estimators=20000, num_leaves=1, learning_rate=2)),
            spec(model_id="ets", auto_ets=pb.StatisticalParams(season_hours=[24, 168], history_steps=1)),
            spec(model_id="sn", seasonal_naive=pb.StatisticalParams(season_hours=[-1])),
            spec(model_id="avg2", ensemble=pb.EnsembleParams(members=["avg"])),
        ],
        input_steps=24,
    )
    assert {v.field for v in violations} == {
        "model_specs[0].ensemble.members[0]",
        "model_specs[1].lightgbm.n_estimators",
        "model_specs[1].lightgbm.num_leaves",
        "model_specs[1].lightgbm.learning_rate",
        "model_specs[2].auto_ets.season_hours",
        "model_specs[2].auto_ets.history_steps",
        "model_specs[3].seasonal_naive.season_hours[0]",
        "model_specs[4].ensemble.members[0]",
    }


def test_default_kernel_shrinks_to_a_short_window():
    resolved, violations = resolve_model_specs([spec(cnn=pb.CnnParams())], input_steps=2)
    assert violations == [] and resolved[0].params.kernel_size == 2


def test_every_problem_is_reported_at_once_with_model_and_field():
    bad_neural = pb.NeuralParams(
        layers=17,
        units=5000,
        epochs=2001,
        batch_size=-1,
        learning_rate=1.5,
        activation=99,
        early_stopping_patience=2001,
    )
    specs = [
        spec(model_id="ok", dense=pb.DenseParams()),
        spec(model_id="wide", dense=pb.DenseParams(neural=bad_neural)),
        spec(model_id="conv", cnn=pb.CnnParams(kernel_size=9)),
        spec(svr_direct=pb.SvrParams(kernel=42, c=-1, epsilon=-0.5)),
        spec(model_id="Bad_Id", lstm=pb.LstmParams()),
        spec(model_id="ok", linear_regression=pb.LinearRegressionParams()),
        spec(model_id="no-type"),
    ]

    resolved, violations = resolve_model_specs(specs, input_steps=8)

    assert resolved == []
    by_field = {v.field: v.description for v in violations}
    assert len(by_field) == len(violations)
    expected = {
        "model_specs[1].dense.neural.layers": "wide",
        "model_specs[1].dense.neural.units": "wide",
        "model_specs[1].dense.neural.epochs": "wide",
        "model_specs[1].dense.neural.batch_size": "wide",
        "model_specs[1].dense.neural.learning_rate": "wide",
        "model_specs[1].dense.neural.activation": "wide",
        "model_specs[1].dense.neural.early_stopping_patience": "wide",
        "model_specs[2].cnn.kernel_size": "conv",
        "model_specs[3].svr_direct.kernel": "model-4",
        "model_specs[3].svr_direct.c": "model-4",
        "model_specs[3].svr_direct.epsilon": "model-4",
        "model_specs[4].model_id": "Bad_Id",
        "model_specs[5].model_id": "ok",
        "model_specs[6].params": "no-type",
    }
    assert set(by_field) == set(expected)
    for field, model_id in expected.items():
        assert f"model '{model_id}'" in by_field[field], field
    assert "between 1 and input_steps (8), got 9" in by_field["model_specs[2].cnn.kernel_size"]
    assert "model_specs[0]" in by_field["model_specs[5].model_id"]


def test_a_positional_id_may_collide_with_an_explicit_one():
    _, violations = resolve_model_specs(
        [spec(model_id="model-2", dense=pb.DenseParams()), spec(dense=pb.DenseParams())], input_steps=8
    )
    assert [v.field for v in violations] == ["model_specs[1].model_id"]
    assert "default for position 2" in violations[0].description


@pytest.mark.parametrize("count", [0, 17])
def test_a_run_has_1_to_16_models(count):
    _, violations = resolve_model_specs([spec(dense=pb.DenseParams())] * count, input_steps=8)
    assert "model_specs" in [v.field for v in violations]


def test_non_finite_numbers_are_rejected():
    _, violations = resolve_model_specs(
        [
            spec(dense=pb.DenseParams(neural=pb.NeuralParams(learning_rate=float("nan")))),
            spec(svr_direct=pb.SvrParams(c=float("inf"), epsilon=float("nan"))),
        ],
        input_steps=8,
    )
    assert {v.field for v in violations} == {
        "model_specs[0].dense.neural.learning_rate",
        "model_specs[1].svr_direct.c",
        "model_specs[1].svr_direct.epsilon",
    }


def test_require_raises_with_all_violations():
    with pytest.raises(InvalidModelSpecs) as raised:
        require_model_specs([spec(dense=pb.DenseParams(neural=pb.NeuralParams(layers=99, units=-3)))], 8)
    assert [v.field for v in raised.value.violations] == [
        "model_specs[0].dense.neural.layers",
        "model_specs[0].dense.neural.units",
    ]


def test_to_proto_writes_every_default_and_resolves_to_the_same_model():
    specs = [
        spec(dense=pb.DenseParams()),
        spec(model_id="c", cnn=pb.CnnParams()),
        spec(svr_direct=pb.SvrParams()),
        spec(svr_mimo=pb.SvrParams()),
        spec(linear_regression=pb.LinearRegressionParams()),
        spec(lstm=pb.LstmParams()),
        spec(ar_lstm=pb.ArLstmParams()),
    ]
    resolved = require_model_specs(specs, input_steps=24)

    written = [to_proto(model) for model in resolved]

    assert written[0].model_id == "model-1"
    neural = written[0].dense.neural
    assert (neural.layers, neural.units, neural.epochs, neural.batch_size, neural.learning_rate, neural.activation) == (
        2,
        64,
        20,
        32,
        0.001,
        pb.ACTIVATION_RELU,
    )
    assert neural.HasField("early_stopping_patience") and neural.early_stopping_patience == 2
    assert written[1].cnn.kernel_size == 3
    assert written[2].svr_direct.kernel == pb.SVR_KERNEL_POLY and written[2].svr_direct.HasField("epsilon")
    assert written[4].WhichOneof("params") == "linear_regression"
    assert require_model_specs(written, input_steps=24) == resolved


def test_specs_module_does_not_import_tensorflow_or_sklearn():
    code = (
        "import sys, tsforge.forecasting.estimators.specs, tsforge.forecasting.estimators.trainer; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn', 'lightgbm', 'statsforecast') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
