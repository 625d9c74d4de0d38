// The Evaluate form ⇄ EvaluationOptions. Seasonal-naive baselines for a day (and a week
// with ≥ 3 weeks of data) are always computed; the form adds seasons of its own, the
// MASE season, and the metric that picks "the baseline". Problems are named by the
// paths CreateEvaluation's violations use ("evaluation.options.seasons").
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { FieldProblem } from "../api/errors";
import { Metric, type EvaluationOptionsSchema } from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";

export const MAX_SEASON_STEPS = 4096; // the most history ReadPredictions serves
export const MAX_SEASONS = 16;

export interface EvaluateForm {
  seasonSteps: string; // MASE season (and one more seasonal naive); empty: the strongest baseline's
  seasons: string; // more seasons in steps, "7, 12"
  baselineMetric: Metric; // UNSPECIFIED means MAE; MASE is refused
}

export function defaultEvaluateForm(): EvaluateForm {
  return { seasonSteps: "", seasons: "", baselineMetric: Metric.UNSPECIFIED };
}

type OptionsInit = MessageInitShape<typeof EvaluationOptionsSchema>;

export function toEvaluationOptions(form: EvaluateForm): { options: OptionsInit; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const wholeIn = (text: string, low: number) => {
    const v = Number(text);
    return Number.isInteger(v) && v >= low && v <= MAX_SEASON_STEPS ? v : null;
  };
  let seasonSteps = 0;
  const season = form.seasonSteps.trim();
  if (season) {
    const v = wholeIn(season, 0);
    if (v == null) problems.push({ field: "evaluation.options.season_steps", description: `a whole number of steps, 0..${MAX_SEASON_STEPS}, got ${season}` });
    else seasonSteps = v;
  }
  const parts = form.seasons.split(/[\s,;]+/).filter(Boolean);
  const bad = parts.filter((p) => wholeIn(p, 1) == null);
  if (bad.length) problems.push({ field: "evaluation.options.seasons", description: `each a whole number of steps, 1..${MAX_SEASON_STEPS}, got ${bad.join(", ")}` });
  const seasons = [...new Set(parts.map(Number).filter((v) => wholeIn(String(v), 1) != null))];
  if (seasons.length > MAX_SEASONS) problems.push({ field: "evaluation.options.seasons", description: `at most ${MAX_SEASONS} seasons` });
  if (form.baselineMetric === Metric.MASE) {
    problems.push({ field: "evaluation.options.baseline_metric", description: "MASE cannot pick the baseline: its scale depends on it" });
  }
  return { options: { seasonSteps, seasons, baselineMetric: form.baselineMetric }, problems };
}
