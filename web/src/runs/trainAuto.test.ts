import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AutoPlanSchema } from "../gen/tsforge/training/v1/training_resources_pb";
import { TrainAutoRequestSchema } from "../gen/tsforge/training/v1/training_service_pb";
import { calibratableLevels, describeIntervals, formatLevel } from "./intervals";
import { loadPlan, planSummary, savePlan, toTrainAutoRequest } from "./trainAuto";

describe("Train automatically ⇄ TrainAuto", () => {
  it("sends the time limit in seconds, or none for the service's default", () => {
    const { request, problems } = toTrainAutoRequest({ session: "sessions/s", timeLimitMinutes: "1.5", displayName: " auto e2e " });
    expect(problems).toEqual([]);
    const m = create(TrainAutoRequestSchema, request);
    expect(m.session).toBe("sessions/s");
    expect(m.timeLimit).toMatchObject({ seconds: 90n, nanos: 0 });
    expect(m.displayName).toBe("auto e2e");
    expect(create(TrainAutoRequestSchema, toTrainAutoRequest({ session: "sessions/s", timeLimitMinutes: "", displayName: "" }).request).timeLimit).toBeUndefined();
  });

  it("refuses a limit outside 1 minute .. 24 h under the field the service names", () => {
    for (const text of ["0.5", "1441", "soon"]) {
      expect(toTrainAutoRequest({ session: "sessions/s", timeLimitMinutes: text, displayName: "" }).problems.map((p) => p.field)).toEqual(["time_limit"]);
    }
    expect(toTrainAutoRequest({ session: "", timeLimitMinutes: "10", displayName: "" }).problems.map((p) => p.field)).toEqual(["session"]);
  });

  it("keeps what the preset chose beside the run", () => {
    const plan = create(AutoPlanSchema, {
      seasonHours: [24, 168], notes: ["a season of 24 h"], timeLimit: { seconds: 60n },
      modelSpecs: [{ modelId: "linear" }, { modelId: "ensemble" }],
    });
    const summary = planSummary("runs/r", plan);
    expect(summary).toEqual({ run: "runs/r", seasonHours: [24, 168], timeLimitSeconds: 60, models: ["linear", "ensemble"], notes: ["a season of 24 h"] });
    const store = new Map<string, string>();
    const storage = { setItem: (k: string, v: string) => void store.set(k, v), getItem: (k: string) => store.get(k) ?? null };
    savePlan(storage, summary);
    expect(loadPlan(storage, "runs/r")).toEqual(summary);
    expect(loadPlan(storage, "runs/other")).toBeNull();
  });
});

describe("prediction intervals in words", () => {
  it("says which levels a validation split can calibrate, as the service decides", () => {
    expect(calibratableLevels(0)).toEqual([]);
    expect(calibratableLevels(4)).toEqual([0.8]);
    expect(calibratableLevels(18)).toEqual([0.8]);
    expect(calibratableLevels(19)).toEqual([0.8, 0.95]);
    expect(formatLevel(0.95)).toBe("95 %");
  });

  it("gives each level's half-widths over steps and features", () => {
    // 2 levels × 3 steps × 1 feature.
    expect(describeIntervals([0.8, 0.95], [1, 2, 3, 4, 4, 4])).toEqual({ levels: "80 %, 95 %", widths: ["80 %: ± 1–3", "95 %: ± 4"] });
    expect(describeIntervals([], [])).toBeNull();
  });
});
