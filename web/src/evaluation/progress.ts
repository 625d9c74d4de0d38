// An evaluation's computation as the console shows it, folded from WatchEvaluation's
// events in sequence order (a repeat dropped, a skip a gap: the watch is opened again
// after the last event folded). The view is plain JSON kept in sessionStorage, so a
// reload re-attaches with WatchEvaluation(after_sequence = last) and replays nothing.
import { EvaluationState, type EvaluationEvent } from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import type { Fold, FoldOutcome } from "../lib/follow";
import { durationSeconds, enumName, timestampMs } from "../lib/format";

export type EvaluationEventData =
  | { kind: "stateChange"; state: string; reason: string }
  | { kind: "progress"; stage: string; done: number; total: number; etaSeconds: number | null; model: string }
  | { kind: "unknown" };

export interface EvaluationSequencedEvent {
  sequence: number;
  timeMs: number; // when the service recorded it
  data: EvaluationEventData;
}

export interface EvaluationProgressView {
  evaluation: string; // "evaluations/{evaluation}"
  lastSequence: number;
  state: string; // "QUEUED", "COMPUTING", "READY", "FAILED"
  reason: string;
  stage: string;
  done: number;
  total: number;
  etaSeconds: number | null;
  model: string; // whose predictions were read last
  requeued: number; // times a lost worker's computation was queued again
}

export const FINISHED_STATES = ["READY", "FAILED"];

export function emptyProgress(evaluation: string, state = "QUEUED"): EvaluationProgressView {
  return { evaluation, lastSequence: 0, state, reason: "", stage: "", done: 0, total: 0, etaSeconds: null, model: "", requeued: 0 };
}

export function isFinished(view: EvaluationProgressView): boolean {
  return FINISHED_STATES.includes(view.state);
}

// Folds one event into the view (a new object; the old one is not changed).
export function applyEvaluationEvent(
  view: EvaluationProgressView, event: EvaluationSequencedEvent,
): { view: EvaluationProgressView; outcome: FoldOutcome } {
  if (event.sequence <= view.lastSequence) return { view, outcome: "duplicate" };
  if (event.sequence > view.lastSequence + 1) return { view, outcome: "gap" };
  const next = { ...view, lastSequence: event.sequence };
  const d = event.data;
  if (d.kind === "stateChange") {
    if (d.state === "QUEUED" && view.lastSequence > 0) next.requeued = view.requeued + 1;
    if (d.state === "QUEUED" || d.state === "COMPUTING") Object.assign(next, { stage: "", done: 0, total: 0, etaSeconds: null, model: "" });
    next.state = d.state;
    next.reason = d.reason;
  } else if (d.kind === "progress") {
    Object.assign(next, { stage: d.stage, done: d.done, total: d.total, etaSeconds: d.etaSeconds, model: d.model || view.model });
  }
  return { view: next, outcome: "applied" };
}

export const EVALUATION_FOLD: Fold<EvaluationProgressView, EvaluationSequencedEvent> = {
  apply: applyEvaluationEvent,
  isTerminal: isFinished,
  lastSequence: (view) => view.lastSequence,
};

export function evaluationEventFromProto(event: EvaluationEvent): EvaluationSequencedEvent {
  const e = event.event;
  let data: EvaluationEventData = { kind: "unknown" };
  if (e.case === "stateChange") data = { kind: "stateChange", state: enumName(EvaluationState, e.value.state), reason: e.value.reason };
  else if (e.case === "progress") {
    data = {
      kind: "progress", stage: e.value.stage, done: Number(e.value.done), total: Number(e.value.total),
      etaSeconds: durationSeconds(e.value.eta), model: e.value.model,
    };
  }
  return { sequence: Number(event.sequence), timeMs: timestampMs(event.time) ?? Date.now(), data };
}

// Where a watch starts: the stored view (a reload), else nothing seen. A stored view
// that had finished while the evaluation is unfinished again (asked for again after a
// passing failure) goes on after its last event.
export function startingView(stored: EvaluationProgressView | null, evaluation: string, state: string): EvaluationProgressView {
  if (!stored) return emptyProgress(evaluation, state);
  if (isFinished(stored) && !FINISHED_STATES.includes(state)) return { ...stored, state };
  return stored;
}

const STORAGE_PREFIX = "tsforge.evaluation:";

export function loadProgress(storage: Pick<Storage, "getItem">, evaluation: string): EvaluationProgressView | null {
  const raw = storage.getItem(STORAGE_PREFIX + evaluation);
  if (!raw) return null;
  try {
    const view = JSON.parse(raw) as EvaluationProgressView;
    return view.evaluation === evaluation && Number.isInteger(view.lastSequence) ? view : null;
  } catch {
    return null;
  }
}

export function saveProgress(storage: Pick<Storage, "setItem">, view: EvaluationProgressView): void {
  try {
    storage.setItem(STORAGE_PREFIX + view.evaluation, JSON.stringify(view));
  } catch {
    // Storage full: the next reload replays from the start instead, which is still correct.
  }
}
