import { describe, expect, it } from "vitest";
import {
  applyEvent, applyEvents, elapsedSeconds, emptyRunView, loadRunView, saveRunView, withStoredStates, type SequencedEvent,
} from "./runEvents";

const M = "runs/r/models/dense";
let t = 0;
const ev = (sequence: number, data: SequencedEvent["data"]): SequencedEvent => ({ sequence, timeMs: ++t, data });
const epoch = (sequence: number, e: number): SequencedEvent =>
  ev(sequence, { kind: "epochEnd", model: M, epoch: e, loss: 1 / e, valLoss: 2 / e, totalEpochs: 5, etaSeconds: 5 - e });

const run = [
  ev(1, { kind: "stateChange", state: "RUNNING", reason: "" }),
  ev(2, { kind: "modelStarted", model: M, modelType: "DENSE" }),
  epoch(3, 1),
  ev(4, { kind: "batchProgress", model: M, epoch: 2, batch: 3, totalBatches: 10, loss: 0.4 }),
  epoch(5, 2),
  epoch(6, 3),
  ev(7, { kind: "modelFinished", model: M, state: "SUCCEEDED", failureReason: "", durationSeconds: 1.5 }),
  ev(8, { kind: "summary", succeeded: 1, failed: 0, cancelled: 0, bestModel: M, durationSeconds: 2 }),
  ev(9, { kind: "stateChange", state: "SUCCEEDED", reason: "" }),
];

describe("run event fold", () => {
  it("draws every epoch once, in order", () => {
    const { view, gap } = applyEvents(emptyRunView("runs/r", [{ name: M, modelType: "DENSE" }]), run);
    expect(gap).toBe(false);
    expect(view.lastSequence).toBe(9);
    expect(view.state).toBe("SUCCEEDED");
    expect(view.models[0].epochs.map((p) => p.epoch)).toEqual([1, 2, 3]);
    expect(view.models[0].state).toBe("SUCCEEDED");
    expect(view.summary?.bestModel).toBe(M);
  });

  it("drops a replay of events already folded (a reconnect after the last sequence seen)", () => {
    let view = applyEvents(emptyRunView("runs/r"), run.slice(0, 5)).view;
    // The stream is re-opened with after_sequence 3 by mistake: 4 and 5 come again.
    for (const e of run.slice(3)) {
      const r = applyEvent(view, e);
      expect(r.outcome).toBe(e.sequence <= 5 ? "duplicate" : "applied");
      view = r.view;
    }
    expect(view.models[0].epochs.map((p) => p.epoch)).toEqual([1, 2, 3]);
    expect(view.lastSequence).toBe(9);
  });

  it("reports a gap instead of folding past a missing event", () => {
    const view = applyEvents(emptyRunView("runs/r"), run.slice(0, 3)).view;
    const r = applyEvent(view, run[5]);
    expect(r.outcome).toBe("gap");
    expect(r.view).toBe(view);
    const batch = applyEvents(view, [run[3], run[5], run[4]]);
    expect(batch.gap).toBe(true);
    expect(batch.view.lastSequence).toBe(4);
  });

  it("never draws an epoch twice even when the service re-sends it under a new sequence", () => {
    const view = applyEvents(emptyRunView("runs/r"), [...run.slice(0, 3), epoch(4, 1), epoch(5, 2)]).view;
    expect(view.models[0].epochs.map((p) => p.epoch)).toEqual([1, 2]);
  });

  it("survives a reload through storage: the watch resumes after the stored sequence, nothing lost or doubled", () => {
    const storage = new Map<string, string>();
    const s = { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => void storage.set(k, v) };
    let view = emptyRunView("runs/r");
    for (const e of run.slice(0, 5)) { view = applyEvent(view, e).view; saveRunView(s, view); }
    const restored = loadRunView(s, "runs/r")!;
    expect(restored.lastSequence).toBe(5);
    expect(restored.models[0].batch).toBeNull(); // live-only, not stored
    // The service replays everything after 5 (what WatchRun(after_sequence=5) sends).
    const after = applyEvents(restored, run.filter((e) => e.sequence > restored.lastSequence)).view;
    expect(after.models[0].epochs.map((p) => p.epoch)).toEqual([1, 2, 3]);
    expect(loadRunView(s, "runs/other")).toBeNull();
  });

  it("adds a model it was not told about and records warnings and errors in words", () => {
    const view = applyEvents(emptyRunView("runs/r"), [
      ev(1, { kind: "warning", model: "runs/r/models/x", message: "few windows" }),
      ev(2, { kind: "error", model: "", code: "INTERNAL", message: "boom" }),
      ev(3, { kind: "modelStarted", model: "runs/r/models/x", modelType: "LINEAR_REGRESSION" }),
    ]).view;
    expect(view.messages).toEqual(["warning (x): few windows", "INTERNAL: boom"]);
    expect(view.models.map((m) => [m.name, m.state])).toEqual([["runs/r/models/x", "RUNNING"]]);
  });

  it("a model without epochs (LightGBM, statistical) is working from its start, for as long as it runs", () => {
    const G = "runs/r/models/gbm";
    const start = { sequence: 1, timeMs: 10_000, data: { kind: "modelStarted", model: G, modelType: "LIGHTGBM" } } as SequencedEvent;
    const { view } = applyEvents(emptyRunView("runs/r", [{ name: G, modelType: "LIGHTGBM" }]), [start]);
    const m = view.models[0];
    expect(m.state).toBe("RUNNING");
    expect(m.totalEpochs).toBe(0);
    expect(elapsedSeconds(m, 12_500)).toBe(2.5);
    expect(elapsedSeconds(m, 9_000)).toBe(0); // the browser's clock behind the service's
    const done = applyEvent(view, { sequence: 2, timeMs: 13_000, data: { kind: "modelFinished", model: G, state: "SUCCEEDED", failureReason: "", durationSeconds: 3 } }).view;
    expect(elapsedSeconds(done.models[0], 20_000)).toBeNull();
  });

  it("takes the stored states of a finished run's models: a model the time budget skipped has no event of its own", () => {
    const S = "runs/r/models/mstl";
    let view = emptyRunView("runs/r", [{ name: M, modelType: "DENSE" }, { name: S, modelType: "MSTL" }]);
    const stored = [{ name: M, state: "SUCCEEDED", failureReason: "" }, { name: S, state: "SKIPPED", failureReason: "" }];
    expect(withStoredStates(view, stored)).toBe(view); // still running: the events decide
    view = applyEvents(view, run).view;
    const merged = withStoredStates(view, stored);
    expect(merged.models.map((m) => m.state)).toEqual(["SUCCEEDED", "SKIPPED"]);
    expect(withStoredStates(merged, stored)).toBe(merged);
  });
});

