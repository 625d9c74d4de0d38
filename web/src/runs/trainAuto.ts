// "Train automatically": the TrainAuto request from the form, and what the preset chose
// (TrainAutoResponse.plan) kept beside the run in sessionStorage so that the run's page
// can say why it trains what it trains (GetRun does not carry the plan).
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { FieldProblem } from "../api/errors";
import type { TrainAutoRequestSchema } from "../gen/tsforge/training/v1/training_service_pb";
import type { AutoPlan } from "../gen/tsforge/training/v1/training_resources_pb";
import { durationSeconds } from "../lib/format";

// TrainAutoRequest.time_limit: 60 s .. 24 h; unset means 10 minutes.
export const TIME_LIMIT_MINUTES = { min: 1, max: 24 * 60, defaultValue: 10 };

export interface TrainAutoForm {
  session: string; // "sessions/{session}"
  timeLimitMinutes: string; // empty: the service's default
  displayName: string;
}

type TrainAutoInit = MessageInitShape<typeof TrainAutoRequestSchema>;

export function toTrainAutoRequest(form: TrainAutoForm): { request: TrainAutoInit; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  if (!form.session) problems.push({ field: "session", description: "choose a session" });
  const text = form.timeLimitMinutes.trim();
  let timeLimit: TrainAutoInit["timeLimit"];
  if (text) {
    const minutes = Number(text);
    const { min, max } = TIME_LIMIT_MINUTES;
    if (!Number.isFinite(minutes) || minutes < min || minutes > max) {
      problems.push({ field: "time_limit", description: `must be between ${min} minute and 24 h (${max} minutes), got ${text}` });
    } else {
      timeLimit = { seconds: BigInt(Math.round(minutes * 60)), nanos: 0 };
    }
  }
  return { request: { session: form.session, timeLimit, displayName: form.displayName.trim() }, problems };
}

export interface PlanSummary {
  run: string;
  seasonHours: number[];
  timeLimitSeconds: number | null;
  models: string[]; // model ids, in run order
  notes: string[];
}

export function planSummary(run: string, plan: AutoPlan): PlanSummary {
  return {
    run,
    seasonHours: [...plan.seasonHours],
    timeLimitSeconds: durationSeconds(plan.timeLimit),
    models: plan.modelSpecs.map((m) => m.modelId),
    notes: [...plan.notes],
  };
}

const PREFIX = "tsforge.autoPlan:";

export function savePlan(storage: Pick<Storage, "setItem">, summary: PlanSummary): void {
  try {
    storage.setItem(PREFIX + summary.run, JSON.stringify(summary));
  } catch {
    // Storage full: the run's page just does not explain the plan.
  }
}

export function loadPlan(storage: Pick<Storage, "getItem">, run: string): PlanSummary | null {
  try {
    const raw = storage.getItem(PREFIX + run);
    const plan = raw ? (JSON.parse(raw) as PlanSummary) : null;
    return plan?.run === run && Array.isArray(plan.notes) ? plan : null;
  } catch {
    return null;
  }
}
