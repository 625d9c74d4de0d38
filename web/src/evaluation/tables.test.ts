import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  Baseline, IntervalMetric, Metric, MetricTableRowSchema,
} from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import { toEvaluationOptions } from "./evaluateOptions";
import { baselineList, intervalSeries, intervalSummaryRows, rowLabel, stepSeries, type Predictions } from "./tables";

describe("baselines of every season", () => {
  it("names each seasonal naive by the service's label", () => {
    const week = create(MetricTableRowSchema, { baseline: Baseline.SEASONAL_NAIVE, seasonSteps: 168, baselineLabel: "seasonal naive (1 week = 168 steps)" });
    expect(rowLabel(week)).toBe("baseline: seasonal naive (1 week = 168 steps)");
    // A row stored without a label still tells its season.
    expect(rowLabel(create(MetricTableRowSchema, { baseline: Baseline.SEASONAL_NAIVE, seasonSteps: 7 }))).toBe("baseline: seasonal naive (7 steps)");
    expect(rowLabel(create(MetricTableRowSchema, { model: "runs/r/models/gbm" }))).toBe("gbm");
    expect(baselineList([
      { $typeName: "tsforge.evaluation.v1.BaselineForecast", baseline: Baseline.NAIVE, seasonSteps: 0, label: "naive" },
      { $typeName: "tsforge.evaluation.v1.BaselineForecast", baseline: Baseline.TRAINING_MEAN, seasonSteps: 0, label: "" },
    ])).toBe("naive, training mean");
  });
});

describe("prediction intervals in the evaluation", () => {
  it("summarises the INTERVALS rows over all steps, coverage against the nominal level", () => {
    const score = (metric: IntervalMetric, value: number) => ({ metric, value: { value } });
    const rows = [
      create(MetricTableRowSchema, { model: "runs/r/models/gbm", feature: "load", intervalLevel: 0.8, step: 0, intervalScores: [score(IntervalMetric.COVERAGE, 0.75), score(IntervalMetric.MEAN_WIDTH, 2)] }),
      create(MetricTableRowSchema, { model: "runs/r/models/gbm", feature: "load", intervalLevel: 0.8, step: 1, intervalScores: [score(IntervalMetric.COVERAGE, 0.7)] }),
    ];
    const summary = intervalSummaryRows(rows);
    expect(summary.length).toBe(1);
    expect(summary[0]).toMatchObject({ model: "gbm", feature: "load", level: 0.8, coverage: 0.75 });
    expect(summary[0].gapPoints).toBeCloseTo(-5);
  });

  it("reads one level's bounds at the rows the forecast series shows", () => {
    // 2 rows, 2 levels, 2 steps, 1 feature.
    const p: Predictions = {
      features: ["load"], outputSteps: 2, referenceTimesMs: [0, 3_600_000], predicted: [10, 11, 20, 21], actual: [10, 11, 20, 21],
      stepOffsetsMinutes: [[60, 120]], intervalLevels: [0.8, 0.95],
      lower: [9, 10, 8, 9, 19, 20, 18, 19], upper: [11, 12, 12, 13, 21, 22, 22, 23],
    };
    expect(intervalSeries(p, 0, 1, 1)).toEqual({ lower: [9, 19], upper: [13, 23] });
    expect(intervalSeries(p, 0, 0, 0, 3_600_001)).toEqual({ lower: [19], upper: [21] });
    expect(stepSeries(p, 0, 0, 3_600_001).predicted).toEqual([20]);
    expect(intervalSeries(p, 0, 0, -1)).toBeNull();
    expect(intervalSeries({ ...p, lower: [], upper: [] }, 0, 0, 0)).toBeNull();
  });
});

describe("Evaluate ⇄ EvaluationOptions", () => {
  it("sends more seasons, the MASE season and the metric that picks the baseline", () => {
    const { options, problems } = toEvaluationOptions({ seasonSteps: "24", seasons: "7, 12 7", baselineMetric: Metric.RMSE });
    expect(problems).toEqual([]);
    expect(options).toEqual({ seasonSteps: 24, seasons: [7, 12], baselineMetric: Metric.RMSE });
    expect(toEvaluationOptions({ seasonSteps: "", seasons: "", baselineMetric: Metric.UNSPECIFIED }).options).toEqual({ seasonSteps: 0, seasons: [], baselineMetric: 0 });
  });

  it("names what the service would refuse", () => {
    const { problems } = toEvaluationOptions({ seasonSteps: "5000", seasons: "0, x", baselineMetric: Metric.MASE });
    expect(problems.map((p) => p.field)).toEqual([
      "evaluation.options.season_steps", "evaluation.options.seasons", "evaluation.options.baseline_metric",
    ]);
  });
});
