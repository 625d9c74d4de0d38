// Follows a run with WatchRun. The folded view is kept in sessionStorage, so after a
// reload (or a dropped stream) the watch re-attaches with after_sequence = the last
// event folded: nothing is replayed twice and nothing is missed. Events that still
// arrive twice, or out of order, are dropped or answered by a new watch (see runEvents).
import { useEffect, useRef, useState } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import { useClients } from "../app/context";
import { ModelType } from "../gen/tsforge/common/v1/common_pb";
import type { Run } from "../gen/tsforge/training/v1/training_resources_pb";
import { enumName } from "../lib/format";
import { runEventFromProto } from "./fromProto";
import { applyEvent, emptyRunView, isTerminal, loadRunView, saveRunView, type RunView, type SequencedEvent } from "./runEvents";

export interface WatchStatus {
  connected: boolean;
  attaches: number; // watches opened so far (1 + reconnects)
  attachedAfter: number; // after_sequence of the current watch
  error: string | null;
}

// onEvent gets each event folded, and whether it is live: it happened after the watch
// that delivered it was opened (a replay of the past is not).
export function useRunWatch(run: Run | undefined, onEvent?: (e: SequencedEvent, live: boolean) => void) {
  const clients = useClients();
  const name = run?.name ?? "";
  const [view, setView] = useState<RunView | null>(null);
  const [status, setStatus] = useState<WatchStatus>({ connected: false, attaches: 0, attachedAfter: 0, error: null });
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;

  useEffect(() => {
    if (!run) return;
    let current =
      loadRunView(sessionStorage, run.name) ??
      emptyRunView(run.name, run.models.map((m) => ({ name: m.name, modelType: enumName(ModelType, m.modelType) })));
    setView(current);
    if (isTerminal(current)) return;
    const abort = new AbortController();
    (async () => {
      let failures = 0;
      let attaches = 0;
      while (!abort.signal.aborted && !isTerminal(current)) {
        const after = current.lastSequence;
        attaches++;
        setStatus({ connected: true, attaches, attachedAfter: after, error: null });
        let gap = false;
        const openedAt = Date.now();
        try {
          const stream = clients.training.watchRun({ name: run.name, afterSequence: BigInt(after) }, { signal: abort.signal });
          for await (const { event } of stream) {
            if (!event) continue;
            const sequenced = runEventFromProto(event);
            const { view: next, outcome } = applyEvent(current, sequenced);
            if (outcome === "gap") { gap = true; break; }
            if (outcome === "duplicate") continue;
            current = next;
            failures = 0;
            saveRunView(sessionStorage, current);
            setView(current);
            onEventRef.current?.(sequenced, sequenced.timeMs >= openedAt);
          }
          if (!gap && !isTerminal(current)) failures++;
        } catch (error) {
          if (abort.signal.aborted) return;
          const e = ConnectError.from(error);
          if (e.code !== Code.Unavailable && e.code !== Code.Unknown && e.code !== Code.DeadlineExceeded && e.code !== Code.Internal) {
            setStatus((s) => ({ ...s, connected: false, error: `${e.rawMessage} (${Code[e.code]})` }));
            return;
          }
          failures++;
          setStatus((s) => ({ ...s, connected: false, error: `connection lost, re-attaching after event ${current.lastSequence}` }));
        }
        if (failures) await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** failures, 10_000)));
      }
      setStatus((s) => ({ ...s, connected: false }));
    })();
    return () => abort.abort();
  }, [name]); // eslint-disable-line react-hooks/exhaustive-deps

  return { view, status };
}
