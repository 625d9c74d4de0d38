// Following a run: the shared watch loop (lib/follow) over the run's fold (runEvents).
import { followEvents, type Fold, type FollowHooks as Hooks } from "../lib/follow";
import { applyEvent, isTerminal, type RunView, type SequencedEvent } from "./runEvents";

export type FollowHooks = Hooks<RunView, SequencedEvent>;

const RUN_FOLD: Fold<RunView, SequencedEvent> = { apply: applyEvent, isTerminal, lastSequence: (view) => view.lastSequence };

export function followRun(start: RunView, hooks: FollowHooks, signal: AbortSignal): Promise<RunView> {
  return followEvents(start, RUN_FOLD, hooks, signal);
}
