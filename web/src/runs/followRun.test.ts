import { describe, expect, it } from "vitest";
import { followRun, type FollowHooks } from "./followRun";
import { applyEvents, emptyRunView, type RunView, type SequencedEvent } from "./runEvents";

const M = "runs/r/models/dense";
const at = (sequence: number) => 1000 + sequence;
const events: SequencedEvent[] = [
  { sequence: 1, timeMs: at(1), data: { kind: "stateChange", state: "RUNNING", reason: "" } },
  ...[1, 2, 3, 4, 5].map((e) => ({
    sequence: e + 1, timeMs: at(e + 1),
    data: { kind: "epochEnd" as const, model: M, epoch: e, loss: 1 / e, valLoss: null, totalEpochs: 5, etaSeconds: null },
  })),
  { sequence: 7, timeMs: at(7), data: { kind: "stateChange", state: "SUCCEEDED", reason: "" } },
];

// A service whose n-th watch delivers what `script[n]` says: events after the asked
// sequence up to `until` (then the stream fails), or a list of sequences to send as is.
function service(script: ({ until: number } | { send: number[] })[]) {
  const asked: number[] = [];
  const watch = async function* (after: number): AsyncIterable<SequencedEvent> {
    const step = script[asked.length] ?? { until: Infinity };
    asked.push(after);
    if ("send" in step) {
      for (const s of step.send) yield events[s - 1];
      return;
    }
    for (const e of events.filter((x) => x.sequence > after && x.sequence <= step.until)) yield e;
    if (step.until < events.length) throw new Error("connection reset");
  };
  return { asked, watch };
}

async function follow(s: ReturnType<typeof service>, start: RunView = emptyRunView("runs/r")) {
  const drawn: number[] = [];
  const troubles: string[] = [];
  const hooks: FollowHooks = {
    watch: (after) => s.watch(after),
    isTransient: () => true,
    onView: (_v, e) => { if (e.data.kind === "epochEnd") drawn.push(e.data.epoch); },
    onAttach: () => {},
    onTrouble: (m) => troubles.push(m),
    sleep: async () => {},
  };
  const view = await followRun(start, hooks, new AbortController().signal);
  return { view, drawn, troubles };
}

describe("following a run", () => {
  it("re-attaches after the last event when the stream drops, losing and doubling nothing", async () => {
    const s = service([{ until: 3 }, { until: 5 }, { until: 7 }]);
    const { view, drawn, troubles } = await follow(s);
    expect(s.asked).toEqual([0, 3, 5]);
    expect(drawn).toEqual([1, 2, 3, 4, 5]);
    expect(view.state).toBe("SUCCEEDED");
    expect(troubles).toHaveLength(2);
  });

  it("drops events a stream repeats and re-watches when one skips ahead", async () => {
    // Watch 1 sends 1, 2, 2, 4 (3 is missing); watch 2 (after 2) sends 3..7.
    const s = service([{ send: [1, 2, 2, 4] }, { until: 7 }]);
    const { view, drawn } = await follow(s);
    expect(s.asked).toEqual([0, 2]);
    expect(drawn).toEqual([1, 2, 3, 4, 5]);
    expect(view.lastSequence).toBe(7);
  });

  it("starts after the stored view (a reload) and stops on an error that will not pass", async () => {
    const s = service([{ until: 7 }]);
    const stored = applyEvents(emptyRunView("runs/r"), events.slice(0, 4)).view; // what a reload finds stored
    const { view, drawn } = await follow(s, stored);
    expect(s.asked[0]).toBe(stored.lastSequence);
    expect(drawn).toEqual([4, 5]);
    expect(view.models[0].epochs.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5]);

    const fatal: string[] = [];
    await followRun(emptyRunView("runs/r"), {
      watch: async function* () { throw new Error("permission denied"); },
      isTransient: () => false,
      onView: () => {}, onAttach: () => {}, onTrouble: (m, f) => { if (f) fatal.push(m); },
    }, new AbortController().signal);
    expect(fatal).toEqual(["permission denied"]);
  });
});
