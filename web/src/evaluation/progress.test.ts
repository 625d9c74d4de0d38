import { describe, expect, it } from "vitest";
import { followEvents } from "../lib/follow";
import {
  applyEvaluationEvent, emptyProgress, EVALUATION_FOLD, loadProgress, saveProgress, startingView,
  type EvaluationSequencedEvent, type EvaluationProgressView,
} from "./progress";

const E = "evaluations/e1";
const state = (sequence: number, s: string, reason = ""): EvaluationSequencedEvent =>
  ({ sequence, timeMs: 1000 + sequence, data: { kind: "stateChange", state: s, reason } });
const progress = (sequence: number, done: number, stage = "reading predictions"): EvaluationSequencedEvent =>
  ({ sequence, timeMs: 1000 + sequence, data: { kind: "progress", stage, done, total: 4, etaSeconds: 4 - done, model: "" } });
const events = [state(1, "QUEUED"), state(2, "COMPUTING"), progress(3, 0), progress(4, 1), progress(5, 2, "computing tables"),
  progress(6, 3, "computing tables"), progress(7, 4, "storing"), state(8, "READY")];

function fold(view: EvaluationProgressView, list: EvaluationSequencedEvent[]) {
  return list.reduce((v, e) => applyEvaluationEvent(v, e).view, view);
}

// A service whose n-th watch sends the events after the asked sequence up to script[n], then fails.
function service(script: number[]) {
  const asked: number[] = [];
  async function* watch(after: number): AsyncIterable<EvaluationSequencedEvent> {
    const until = script[asked.length] ?? Infinity;
    asked.push(after);
    for (const e of events.filter((x) => x.sequence > after && x.sequence <= until)) yield e;
    if (until < events.length) throw new Error("connection reset");
  }
  return { asked, watch };
}

async function follow(s: ReturnType<typeof service>, start: EvaluationProgressView) {
  const seen: number[] = [];
  const view = await followEvents(start, EVALUATION_FOLD, {
    watch: (after) => s.watch(after), isTransient: () => true, onView: (_v, e) => seen.push(e.sequence),
    onAttach: () => {}, onTrouble: () => {}, sleep: async () => {},
  }, new AbortController().signal);
  return { view, seen };
}

describe("an evaluation's progress", () => {
  it("folds stages, done / total and the ETA, and ends READY", () => {
    const view = fold(emptyProgress(E), events.slice(0, 5));
    expect(view).toMatchObject({ state: "COMPUTING", stage: "computing tables", done: 2, total: 4, etaSeconds: 2, lastSequence: 5 });
    expect(fold(view, events.slice(5)).state).toBe("READY");
    expect(applyEvaluationEvent(view, events[2]).outcome).toBe("duplicate");
    expect(applyEvaluationEvent(view, events[7]).outcome).toBe("gap");
  });

  it("re-attaches after the last event when the stream drops, and after a reload", async () => {
    const dropped = service([3, 6]);
    const first = await follow(dropped, emptyProgress(E));
    expect(dropped.asked).toEqual([0, 3, 6]);
    expect(first.seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(first.view.state).toBe("READY");

    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    saveProgress(storage, fold(emptyProgress(E), events.slice(0, 4))); // what a reload finds stored
    const stored = loadProgress(storage, E);
    const reloaded = service([]);
    const second = await follow(reloaded, startingView(stored, E, "COMPUTING"));
    expect(reloaded.asked).toEqual([4]);
    expect(second.seen).toEqual([5, 6, 7, 8]);
  });

  it("goes on after a FAILED it saw when the evaluation is queued again", () => {
    const failed = fold(emptyProgress(E), [state(1, "QUEUED"), state(2, "COMPUTING"), state(3, "FAILED", "training unreachable")]);
    const start = startingView(failed, E, "QUEUED");
    expect(start).toMatchObject({ state: "QUEUED", lastSequence: 3 });
    const again = fold(start, [state(4, "QUEUED", "asked for again after a passing failure"), state(5, "COMPUTING")]);
    expect(again).toMatchObject({ state: "COMPUTING", requeued: 1, reason: "" });
    expect(startingView(null, E, "QUEUED")).toEqual(emptyProgress(E, "QUEUED"));
  });
});
