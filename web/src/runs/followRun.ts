// The watch loop behind the live run page, apart from React and the network so it can
// be tested: open a watch after the last event folded, fold what arrives, and when the
// stream fails or skips an event open a new one after the last event folded, until the
// run reaches a terminal state.
import { applyEvent, isTerminal, type RunView, type SequencedEvent } from "./runEvents";

export interface FollowHooks {
  watch(afterSequence: number, signal: AbortSignal): AsyncIterable<SequencedEvent>;
  isTransient(error: unknown): boolean; // worth re-attaching after
  onView(view: RunView, event: SequencedEvent, live: boolean): void; // after each event folded
  onAttach(attaches: number, afterSequence: number): void;
  onTrouble(message: string, fatal: boolean): void;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  maxFailures?: number;
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });

export async function followRun(start: RunView, hooks: FollowHooks, signal: AbortSignal): Promise<RunView> {
  const now = hooks.now ?? (() => Date.now());
  const sleep = hooks.sleep ?? defaultSleep;
  let view = start;
  let failures = 0;
  let attaches = 0;
  while (!signal.aborted && !isTerminal(view)) {
    const after = view.lastSequence;
    hooks.onAttach(++attaches, after);
    const openedAt = now();
    let gap = false;
    try {
      for await (const event of hooks.watch(after, signal)) {
        const { view: next, outcome } = applyEvent(view, event);
        if (outcome === "gap") { gap = true; break; }
        if (outcome === "duplicate") continue;
        view = next;
        failures = 0;
        hooks.onView(view, event, event.timeMs >= openedAt);
      }
      // A stream that ends before the terminal state (or skipped an event): watch again.
      if (!isTerminal(view)) failures++;
    } catch (error) {
      if (signal.aborted) break;
      if (!hooks.isTransient(error)) {
        hooks.onTrouble(error instanceof Error ? error.message : String(error), true);
        break;
      }
      failures++;
      hooks.onTrouble(`connection lost, re-attaching after event ${view.lastSequence}`, false);
    }
    if (failures > (hooks.maxFailures ?? 50)) {
      hooks.onTrouble("gave up re-attaching", true);
      break;
    }
    if (failures && !gap) await sleep(Math.min(500 * 2 ** Math.min(failures, 5), 10_000), signal);
  }
  return view;
}
