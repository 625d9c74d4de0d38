// Metric tables and stored predictions, shaped for tables and charts.
import {
  Baseline, IntervalMetric, Metric, type BaselineForecast, type MetricTableRow,
} from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import { shortModel } from "../runs/runEvents";

export const METRICS: { metric: Metric; label: string }[] = [
  { metric: Metric.MAE, label: "MAE" },
  { metric: Metric.MAPE, label: "MAPE %" },
  { metric: Metric.MSE, label: "MSE" },
  { metric: Metric.RMSE, label: "RMSE" },
  { metric: Metric.NRMSE_MEAN, label: "NRMSE (mean)" },
  { metric: Metric.NRMSE_RANGE, label: "NRMSE (range)" },
  { metric: Metric.WAPE, label: "WAPE %" },
  { metric: Metric.SMAPE, label: "sMAPE %" },
  { metric: Metric.MASE, label: "MASE" },
];

const BASELINE_LABELS: Record<number, string> = {
  [Baseline.NAIVE]: "naive",
  [Baseline.SEASONAL_NAIVE]: "seasonal naive",
  [Baseline.TRAINING_MEAN]: "training mean",
};

// The service's label ("seasonal naive (1 week = 168 steps)") where it gives one: an
// evaluation has a seasonal naive per season, told apart only by it.
export function baselineLabel(b: Baseline, label = "", seasonSteps = 0): string {
  if (label) return label;
  const name = BASELINE_LABELS[b] ?? "";
  return b === Baseline.SEASONAL_NAIVE && seasonSteps ? `${name} (${seasonSteps} steps)` : name;
}

export function forecastLabel(b: BaselineForecast | undefined): string {
  return b ? baselineLabel(b.baseline, b.label, b.seasonSteps) : "";
}

export function rowBaselineLabel(row: MetricTableRow): string {
  return baselineLabel(row.baseline, row.baselineLabel, row.seasonSteps);
}

// "dense", or "baseline: seasonal naive (1 day = 24 steps)"; SKILL rows name the model
// (the baseline is a column).
export function rowLabel(row: MetricTableRow): string {
  return row.model ? shortModel(row.model) : `baseline: ${rowBaselineLabel(row)}`;
}

// A row's skill against the table's reference baseline for one metric.
export function skillOf(row: MetricTableRow, metric: Metric): { value: number | null; reason: string } | null {
  const s = row.skill.find((x) => x.metric === metric);
  if (!s?.value) return null;
  return { value: s.value.value ?? null, reason: s.value.undefinedReason };
}

export const INTERVAL_METRICS: { metric: IntervalMetric; label: string }[] = [
  { metric: IntervalMetric.COVERAGE, label: "coverage" },
  { metric: IntervalMetric.MEAN_WIDTH, label: "mean width" },
  { metric: IntervalMetric.PINBALL, label: "pinball loss" },
  { metric: IntervalMetric.WINKLER, label: "interval (Winkler) score" },
];

export function intervalScoreOf(row: MetricTableRow, metric: IntervalMetric): { value: number | null; reason: string } {
  const s = row.intervalScores.find((x) => x.metric === metric);
  if (!s?.value) return { value: null, reason: "not computed" };
  return { value: s.value.value ?? null, reason: s.value.undefinedReason };
}

// INTERVALS rows over all forecast steps (step 0), per model, feature and level; with how
// far the empirical coverage lies from the nominal one (percentage points).
export function intervalSummaryRows(rows: MetricTableRow[]) {
  return rows
    .filter((r) => r.step === 0)
    .map((r) => {
      const coverage = intervalScoreOf(r, IntervalMetric.COVERAGE).value;
      return {
        row: r,
        model: shortModel(r.model),
        feature: r.feature,
        level: r.intervalLevel,
        coverage,
        gapPoints: coverage == null ? null : (coverage - r.intervalLevel) * 100,
      };
    });
}

// Every baseline of an evaluation in its order ("naive, seasonal naive (1 day = 24
// steps), …, training mean"), for people.
export function baselineList(baselines: BaselineForecast[]): string {
  return baselines.map(forecastLabel).join(", ");
}

export function isBaselineRow(row: MetricTableRow): boolean {
  return !row.model;
}

// The value of a metric in a row, or the reason it is undefined.
export function scoreOf(row: MetricTableRow, metric: Metric): { value: number | null; reason: string } {
  const s = row.scores.find((x) => x.metric === metric);
  if (!s?.value) return { value: null, reason: "not computed" };
  return { value: s.value.value ?? null, reason: s.value.undefinedReason };
}

export function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    out.set(k, [...(out.get(k) ?? []), item]);
  }
  return out;
}

// Predictions of one model as read by ReadPredictions: row-major arrays indexed
// ((row * outputSteps) + step) * nFeatures + feature.
export interface Predictions {
  features: string[];
  outputSteps: number;
  referenceTimesMs: number[];
  predicted: number[];
  actual: number[];
  // Prediction intervals: levels ascending; bounds indexed
  // (((row * levels) + level) * outputSteps + step) * nFeatures + feature. Empty without.
  intervalLevels?: number[];
  lower?: number[];
  upper?: number[];
  // Minutes from the reference time to each step, per feature (from the horizon).
  stepOffsetsMinutes: number[][];
}

export function valueAt(p: Predictions, values: number[], row: number, step: number, feature: number): number {
  return values[(row * p.outputSteps + step) * p.features.length + feature];
}

// Time (ms) and values of one feature at one forecast step (0-based), within [fromMs, toMs].
export function stepSeries(p: Predictions, feature: number, step: number, fromMs = -Infinity, toMs = Infinity) {
  const times: number[] = [];
  const predicted: number[] = [];
  const actual: number[] = [];
  const offsetMs = (p.stepOffsetsMinutes[feature]?.[step] ?? 0) * 60_000;
  for (let r = 0; r < p.referenceTimesMs.length; r++) {
    const t = p.referenceTimesMs[r] + offsetMs;
    if (t < fromMs || t > toMs) continue;
    times.push(t);
    predicted.push(valueAt(p, p.predicted, r, step, feature));
    actual.push(valueAt(p, p.actual, r, step, feature));
  }
  return { times, predicted, actual };
}

// Lower and upper bounds of one level (0-based) of one feature at one step, at the same
// rows stepSeries picks; null when the predictions have no intervals of that level.
export function intervalSeries(p: Predictions, feature: number, step: number, level: number, fromMs = -Infinity, toMs = Infinity) {
  const levels = p.intervalLevels?.length ?? 0;
  if (!p.lower?.length || !p.upper?.length || level < 0 || level >= levels) return null;
  const lower: number[] = [];
  const upper: number[] = [];
  const offsetMs = (p.stepOffsetsMinutes[feature]?.[step] ?? 0) * 60_000;
  const n = p.features.length;
  for (let r = 0; r < p.referenceTimesMs.length; r++) {
    const t = p.referenceTimesMs[r] + offsetMs;
    if (t < fromMs || t > toMs) continue;
    const i = (((r * levels) + level) * p.outputSteps + step) * n + feature;
    lower.push(p.lower[i]);
    upper.push(p.upper[i]);
  }
  return { lower, upper };
}

// Residuals (actual − forecast) of one feature over every row and step.
export function residuals(p: Predictions, feature: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < p.referenceTimesMs.length; r++) {
    for (let s = 0; s < p.outputSteps; s++) {
      const a = valueAt(p, p.actual, r, s, feature);
      const f = valueAt(p, p.predicted, r, s, feature);
      if (Number.isFinite(a) && Number.isFinite(f)) out.push(a - f);
    }
  }
  return out;
}

// Equal-width bins over the values' range: bin centres and counts.
export function histogram(values: number[], bins = 30): { centres: number[]; counts: number[] } {
  if (!values.length) return { centres: [], counts: [] };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) return { centres: [lo], counts: [values.length] };
  const width = (hi - lo) / bins;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  return { centres: counts.map((_, i) => lo + (i + 0.5) * width), counts };
}

// Step k (1-based) of a feature with horizon start..end (hours) and O_N steps lies at
// start + k * (end - start) / steps hours after the reference time.
export function stepOffsetsMinutes(start: number, end: number, steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => (start + ((i + 1) * (end - start)) / steps) * 60);
}
