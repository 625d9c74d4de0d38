import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Activation, LightGbmStrategy, ModelSpecSchema, SvrKernel } from "../gen/tsforge/training/v1/training_resources_pb";
import { boundsOf, effectiveModelId, MODEL_KINDS, newModelRow, suggestModelId, toModelSpec, toModelSpecs } from "./modelForm";

describe("model form ⇄ ModelSpec", () => {
  it("a dense model with some settings, the rest the contract's defaults (zero values)", () => {
    const row = { ...newModelRow("dense", "dense"), seed: "7", values: { layers: "1", units: "8", epochs: "30", early_stopping_patience: "0" }, activation: "TANH" as const };
    const { spec, problems } = toModelSpec(row, 0);
    expect(problems).toEqual([]);
    const m = create(ModelSpecSchema, spec);
    expect(m.modelId).toBe("dense");
    expect(m.seed).toBe(7n);
    expect(m.params.case).toBe("dense");
    const neural = m.params.case === "dense" ? m.params.value.neural! : null;
    expect(neural).toMatchObject({ layers: 1, units: 8, epochs: 30, batchSize: 0, learningRate: 0, activation: Activation.TANH });
    // Patience 0 is a real value (stop at once), unset means the default: the field is optional.
    expect(neural!.earlyStoppingPatience).toBe(0);
    const defaults = create(ModelSpecSchema, toModelSpec(newModelRow("dense"), 0).spec);
    expect(defaults.params.case === "dense" && defaults.params.value.neural!.earlyStoppingPatience).toBeUndefined();
  });

  it("checks the contract's bounds and names the fields as the service does", () => {
    const row = { ...newModelRow("cnn"), modelId: "Bad", values: { layers: "17", units: "0", epochs: "2.5", learning_rate: "0", kernel_size: "0" } };
    const fields = toModelSpec(row, 2).problems.map((p) => p.field);
    expect(fields).toEqual([
      "run.model_specs[2].model_id",
      "run.model_specs[2].cnn.neural.layers",
      "run.model_specs[2].cnn.neural.units",
      "run.model_specs[2].cnn.neural.epochs",
      "run.model_specs[2].cnn.neural.learning_rate",
      "run.model_specs[2].cnn.kernel_size",
    ]);
  });

  it("SVR and linear regression", () => {
    const svr = create(ModelSpecSchema, toModelSpec({ ...newModelRow("svrMimo"), svrKernel: "RBF", values: { c: "10", epsilon: "0" } }, 0).spec);
    expect(svr.params.case).toBe("svrMimo");
    expect(svr.params.value).toMatchObject({ kernel: SvrKernel.RBF, c: 10, epsilon: 0 });
    expect(toModelSpec({ ...newModelRow("svrDirect"), values: { c: "0" } }, 1).problems[0].field).toBe("run.model_specs[1].svr_direct.c");
    const linear = create(ModelSpecSchema, toModelSpec(newModelRow("linearRegression", "linear"), 1).spec);
    expect(linear.params.case).toBe("linearRegression");
  });
});

describe("the new model kinds ⇄ ModelSpec", () => {
  it("LightGBM: its options, the optional early stopping, the strategy and a time budget", () => {
    const row = { ...newModelRow("lightgbm", "gbm"), lightgbmStrategy: "STEP_FEATURE" as const, timeLimit: "2.5",
      values: { n_estimators: "40", learning_rate: "0.05", num_leaves: "15", min_child_samples: "5", early_stopping_rounds: "0" } };
    const { spec, problems } = toModelSpec(row, 0);
    expect(problems).toEqual([]);
    const m = create(ModelSpecSchema, spec);
    expect(m.params.case).toBe("lightgbm");
    expect(m.params.value).toMatchObject({ nEstimators: 40, learningRate: 0.05, numLeaves: 15, minChildSamples: 5, strategy: LightGbmStrategy.STEP_FEATURE });
    // 0 turns early stopping off; empty leaves it to the contract's default (10).
    expect(m.params.case === "lightgbm" && m.params.value.earlyStoppingRounds).toBe(0);
    const defaults = create(ModelSpecSchema, toModelSpec(newModelRow("lightgbm"), 0).spec);
    expect(defaults.params.case === "lightgbm" && defaults.params.value.earlyStoppingRounds).toBeUndefined();
    expect(defaults.params.value).toMatchObject({ nEstimators: 0, learningRate: 0, strategy: LightGbmStrategy.DIRECT });
    expect(defaults.timeLimit).toBeUndefined();
    expect(m.timeLimit).toMatchObject({ seconds: 2n, nanos: 500_000_000 });
  });

  it("LightGBM bounds, named as the service names them", () => {
    const row = { ...newModelRow("lightgbm"), timeLimit: "0", values: { n_estimators: "0", num_leaves: "1", learning_rate: "2", early_stopping_rounds: "-1" } };
    expect(toModelSpec(row, 1).problems.map((p) => p.field)).toEqual([
      "run.model_specs[1].time_limit",
      "run.model_specs[1].lightgbm.n_estimators",
      "run.model_specs[1].lightgbm.learning_rate",
      "run.model_specs[1].lightgbm.num_leaves",
      "run.model_specs[1].lightgbm.early_stopping_rounds",
    ]);
  });

  it("statistical models: seasons in hours, one season for AutoETS, AutoARIMA and seasonal naive", () => {
    const mstl = create(ModelSpecSchema, toModelSpec({ ...newModelRow("mstl"), seasonHours: "24, 168", values: { history_steps: "400" } }, 0).spec);
    expect(mstl.params.case).toBe("mstl");
    expect(mstl.params.value).toMatchObject({ seasonHours: [24, 168], historySteps: 400, fitSteps: 0 });
    // Empty: the contract chooses (a day, and a week with three weeks of training data).
    const auto = create(ModelSpecSchema, toModelSpec(newModelRow("autoArima"), 0).spec);
    expect(auto.params.case === "autoArima" && auto.params.value.seasonHours).toEqual([]);
    expect(newModelRow("seasonalNaive").seasonHours).toBe("24");
    expect(toModelSpec({ ...newModelRow("autoEts"), seasonHours: "24 168" }, 3).problems.map((p) => p.field)).toEqual(["run.model_specs[3].auto_ets.season_hours"]);
    expect(toModelSpec({ ...newModelRow("seasonalNaive"), seasonHours: "-1", values: { fit_steps: "1" } }, 0).problems.map((p) => p.field)).toEqual([
      "run.model_specs[0].seasonal_naive.season_hours[0]",
      "run.model_specs[0].seasonal_naive.fit_steps",
    ]);
  });

  it("an ensemble averages models listed before it (all of them when none is ticked)", () => {
    const rows = [newModelRow("lightgbm", "gbm"), newModelRow("seasonalNaive"), { ...newModelRow("ensemble", "blend"), members: ["gbm", "model-2"] }];
    const { specs, problems } = toModelSpecs(rows);
    expect(problems).toEqual([]);
    const blend = create(ModelSpecSchema, specs[2]);
    expect(blend.params.case === "ensemble" && blend.params.value.members).toEqual(["gbm", "model-2"]);
    const bad = toModelSpecs([{ ...newModelRow("ensemble"), members: ["later"] }, newModelRow("linearRegression", "later")]);
    expect(bad.problems.map((p) => p.field)).toEqual(["run.model_specs[0].ensemble.members[0]", "run.model_specs[0].ensemble.members"]);
    // An ensemble is not a member of another.
    const nested = toModelSpecs([newModelRow("dense", "a"), newModelRow("ensemble", "e1"), { ...newModelRow("ensemble", "e2"), members: ["e1"] }]);
    expect(nested.problems.map((p) => p.field)).toEqual(["run.model_specs[2].ensemble.members[0]"]);
  });

  it("ids: duplicates are refused, new rows get a free one", () => {
    const rows = [newModelRow("dense", "dense"), newModelRow("linearRegression")];
    expect(effectiveModelId(rows[1], 1)).toBe("model-2");
    expect(suggestModelId("dense", rows)).toBe("dense-2");
    expect(suggestModelId("lightgbm", rows)).toBe("lightgbm");
    expect(toModelSpecs([...rows, newModelRow("cnn", "dense")]).problems.map((p) => p.field)).toEqual(["run.model_specs[2].model_id"]);
  });

  it("every kind the contract has is offered, with the contract's defaults for the Keras sizes", () => {
    const cases = MODEL_KINDS.map((k) => create(ModelSpecSchema, toModelSpecs([newModelRow("dense", "x"), newModelRow(k.kind, "y")]).specs[1]).params.case);
    expect(cases).toEqual(ModelSpecSchema.oneofs[0].fields.map((f) => f.localName));
    expect(boundsOf("lstm").find((b) => b.field === "units")!.defaultText).toBe("32");
    expect(boundsOf("dense").find((b) => b.field === "layers")!.defaultText).toBe("2");
  });
});
