// Follows a run with WatchRun (see followRun). The folded view is kept in
// sessionStorage, so after a reload the watch re-attaches with after_sequence = the
// last event folded: nothing is replayed twice and nothing is missed.
import { useEffect, useRef, useState } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import { useClients } from "../app/context";
import { ModelType } from "../gen/tsforge/common/v1/common_pb";
import type { Run } from "../gen/tsforge/training/v1/training_resources_pb";
import { enumName } from "../lib/format";
import { followRun } from "./followRun";
import { runEventFromProto } from "./fromProto";
import { emptyRunView, isTerminal, loadRunView, saveRunView, type RunView, type SequencedEvent } from "./runEvents";

export interface WatchStatus {
  connected: boolean;
  attaches: number; // watches opened so far (1 + re-attaches)
  attachedAfter: number; // after_sequence of the current watch
  error: string | null;
}

const TRANSIENT = [Code.Unavailable, Code.Unknown, Code.DeadlineExceeded, Code.Internal, Code.Aborted];

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
    const start =
      loadRunView(sessionStorage, run.name) ??
      emptyRunView(run.name, run.models.map((m) => ({ name: m.name, modelType: enumName(ModelType, m.modelType) })));
    setView(start);
    if (isTerminal(start)) return;
    const abort = new AbortController();
    followRun(start, {
      async *watch(afterSequence, signal) {
        for await (const { event } of clients.training.watchRun({ name: run.name, afterSequence: BigInt(afterSequence) }, { signal })) {
          if (event) yield runEventFromProto(event);
        }
      },
      isTransient: (error) => TRANSIENT.includes(ConnectError.from(error).code),
      onView(next, event, live) {
        saveRunView(sessionStorage, next);
        setView(next);
        onEventRef.current?.(event, live);
      },
      onAttach: (attaches, afterSequence) => setStatus({ connected: true, attaches, attachedAfter: afterSequence, error: null }),
      onTrouble: (message, fatal) => setStatus((s) => ({ ...s, connected: !fatal && s.connected, error: message })),
    }, abort.signal).then(() => setStatus((s) => ({ ...s, connected: false })));
    return () => abort.abort();
  }, [name]); // eslint-disable-line react-hooks/exhaustive-deps

  return { view, status };
}
