import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Activation, ModelSpecSchema, SvrKernel } from "../gen/tsforge/training/v1/training_resources_pb";
import { newModelRow, toModelSpec } from "./modelForm";

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
