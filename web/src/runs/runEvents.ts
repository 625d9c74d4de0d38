// What a run looks like after its events, built by folding WatchRun events in sequence
// order. The fold is the console's guarantee against lost or doubled points: an event
// at or below the last sequence seen is dropped (a replay after a reconnect), an event
// past the next one is a gap (the caller re-watches after the last sequence), and an
// epoch already drawn is never drawn again. The view is plain JSON, kept in
// sessionStorage, so a reload re-attaches with WatchRun(after_sequence = last).

export type RunEventData =
  | { kind: "stateChange"; state: string; reason: string }
  | { kind: "modelStarted"; model: string; modelType: string }
  | { kind: "modelFinished"; model: string; state: string; failureReason: string; durationSeconds: number }
  | {
      kind: "epochEnd"; model: string; epoch: number; loss: number; valLoss: number | null;
      totalEpochs: number; etaSeconds: number | null;
    }
  | { kind: "batchProgress"; model: string; epoch: number; batch: number; totalBatches: number; loss: number }
  | { kind: "datasetBuildProgress"; done: number; total: number; stage: string; etaSeconds: number | null }
  | { kind: "warning"; model: string; message: string }
  | {
      kind: "summary"; succeeded: number; failed: number; cancelled: number; skipped?: number; bestModel: string;
      durationSeconds: number;
    }
  | { kind: "error"; model: string; code: string; message: string }
  | { kind: "unknown" };

export interface SequencedEvent {
  sequence: number;
  timeMs: number; // when the service recorded it
  data: RunEventData;
}

export interface EpochPoint {
  epoch: number;
  loss: number;
  valLoss: number | null;
}

export interface ModelView {
  name: string; // "runs/{run}/models/{model}"
  modelType: string;
  state: string;
  epochs: EpochPoint[];
  totalEpochs: number;
  etaSeconds: number | null;
  batch: { epoch: number; batch: number; totalBatches: number; loss: number } | null;
  failureReason: string;
  durationSeconds: number | null;
  startedMs?: number | null; // when it started (the service's clock), for the elapsed time
}

export interface RunView {
  run: string;
  lastSequence: number;
  state: string; // "QUEUED", "RUNNING", ... as in RunState without its prefix
  reason: string;
  models: ModelView[];
  build: { done: number; total: number; stage: string } | null;
  messages: string[]; // warnings and errors, in words
  summary: Extract<RunEventData, { kind: "summary" }> | null;
}

export const TERMINAL_STATES = ["SUCCEEDED", "FAILED", "CANCELLED"];

export function emptyRunView(run: string, models: { name: string; modelType: string }[] = []): RunView {
  return {
    run, lastSequence: 0, state: "QUEUED", reason: "", build: null, messages: [], summary: null,
    models: models.map((m) => newModel(m.name, m.modelType)),
  };
}

function newModel(name: string, modelType: string): ModelView {
  return {
    name, modelType, state: "PENDING", epochs: [], totalEpochs: 0, etaSeconds: null, batch: null,
    failureReason: "", durationSeconds: null,
  };
}

export type ApplyOutcome = "applied" | "duplicate" | "gap";

// Folds one event into the view (a new object; the old one is not changed).
export function applyEvent(view: RunView, event: SequencedEvent): { view: RunView; outcome: ApplyOutcome } {
  if (event.sequence <= view.lastSequence) return { view, outcome: "duplicate" };
  if (event.sequence > view.lastSequence + 1) return { view, outcome: "gap" };
  const next: RunView = { ...view, lastSequence: event.sequence, models: view.models };
  const data = event.data;
  const withModel = (model: string, change: (m: ModelView) => ModelView) => {
    const models = next.models.some((m) => m.name === model)
      ? next.models
      : [...next.models, newModel(model, "")];
    next.models = models.map((m) => (m.name === model ? change(m) : m));
  };
  switch (data.kind) {
    case "stateChange":
      next.state = data.state;
      next.reason = data.reason;
      if (TERMINAL_STATES.includes(data.state)) {
        next.models = next.models.map((m) => ({ ...m, batch: null, etaSeconds: null }));
      }
      break;
    case "modelStarted":
      withModel(data.model, (m) => ({ ...m, modelType: data.modelType || m.modelType, state: "RUNNING", startedMs: event.timeMs }));
      break;
    case "modelFinished":
      withModel(data.model, (m) => ({
        ...m, state: data.state, failureReason: data.failureReason, durationSeconds: data.durationSeconds,
        batch: null, etaSeconds: data.state === "SUCCEEDED" ? 0 : null,
      }));
      break;
    case "epochEnd":
      withModel(data.model, (m) => {
        if (m.epochs.some((p) => p.epoch === data.epoch)) return m;
        const epochs = [...m.epochs, { epoch: data.epoch, loss: data.loss, valLoss: data.valLoss }];
        epochs.sort((a, b) => a.epoch - b.epoch);
        return { ...m, epochs, totalEpochs: data.totalEpochs, etaSeconds: data.etaSeconds };
      });
      break;
    case "batchProgress":
      withModel(data.model, (m) => ({
        ...m, batch: { epoch: data.epoch, batch: data.batch, totalBatches: data.totalBatches, loss: data.loss },
      }));
      break;
    case "datasetBuildProgress":
      next.build = { done: data.done, total: data.total, stage: data.stage };
      break;
    case "warning":
      next.messages = [...next.messages, `warning${data.model ? ` (${shortModel(data.model)})` : ""}: ${data.message}`];
      break;
    case "error":
      next.messages = [...next.messages, `${data.code}${data.model ? ` (${shortModel(data.model)})` : ""}: ${data.message}`];
      break;
    case "summary":
      next.summary = data;
      break;
    case "unknown":
      break;
  }
  return { view: next, outcome: "applied" };
}

// Folds a batch of events (as a replay delivers them) and stops at the first gap.
export function applyEvents(view: RunView, events: SequencedEvent[]): { view: RunView; gap: boolean } {
  let current = view;
  for (const event of events) {
    const { view: next, outcome } = applyEvent(current, event);
    if (outcome === "gap") return { view: current, gap: true };
    current = next;
  }
  return { view: current, gap: false };
}

export function isTerminal(view: RunView): boolean {
  return TERMINAL_STATES.includes(view.state);
}

// Seconds a RUNNING model has been at work at nowMs; null when it is not running.
export function elapsedSeconds(model: ModelView, nowMs: number): number | null {
  if (model.state !== "RUNNING" || model.startedMs == null) return null;
  return Math.max(0, (nowMs - model.startedMs) / 1000);
}

// A finished run's models in the states GetRun gives: the events do not mark a model
// the time budget skipped (only a warning says so), the stored run does.
export function withStoredStates(view: RunView, stored: { name: string; state: string; failureReason: string }[]): RunView {
  if (!isTerminal(view)) return view;
  let changed = false;
  const models = view.models.map((m) => {
    const s = stored.find((x) => x.name === m.name);
    if (!s || !TERMINAL_MODEL_STATES.includes(s.state) || s.state === m.state) return m;
    changed = true;
    return { ...m, state: s.state, failureReason: s.failureReason || m.failureReason, batch: null, etaSeconds: null };
  });
  return changed ? { ...view, models } : view;
}

const TERMINAL_MODEL_STATES = ["SUCCEEDED", "FAILED", "CANCELLED", "SKIPPED"];

export function shortModel(name: string): string {
  return name.split("/models/")[1] ?? name;
}

// The view without what is only worth showing live (batch progress), for storage.
export function storableView(view: RunView): RunView {
  return { ...view, models: view.models.map((m) => ({ ...m, batch: null })) };
}

const STORAGE_PREFIX = "tsforge.run:";

export function loadRunView(storage: Pick<Storage, "getItem">, run: string): RunView | null {
  const raw = storage.getItem(STORAGE_PREFIX + run);
  if (!raw) return null;
  try {
    const view = JSON.parse(raw) as RunView;
    return view.run === run && Number.isInteger(view.lastSequence) ? view : null;
  } catch {
    return null;
  }
}

export function saveRunView(storage: Pick<Storage, "setItem">, view: RunView): void {
  try {
    storage.setItem(STORAGE_PREFIX + view.run, JSON.stringify(storableView(view)));
  } catch {
    // Storage full: the next reload replays from the start instead, which is still correct.
  }
}
