// Follows a dataset build with WatchDatasetBuild: replays from after the last event
// seen, re-attaches the same way when the stream drops, and ends at READY or FAILED.
import { useEffect, useRef, useState } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import { useClients } from "../app/context";
import { DatasetState } from "../gen/tsforge/training/v1/training_resources_pb";
import { durationSeconds, enumName } from "../lib/format";

export interface BuildView {
  lastSequence: number;
  state: string;
  reason: string;
  done: number;
  total: number;
  stage: string;
  etaSeconds: number | null;
  messages: string[];
}

export function useDatasetBuild(name: string, active: boolean, onEnd: () => void): BuildView {
  const clients = useClients();
  const [view, setView] = useState<BuildView>({ lastSequence: 0, state: "", reason: "", done: 0, total: 0, stage: "", etaSeconds: null, messages: [] });
  const last = useRef(0);
  const endRef = useRef(onEnd);
  endRef.current = onEnd;
  useEffect(() => {
    if (!active) return;
    const abort = new AbortController();
    (async () => {
      for (let attempt = 0; !abort.signal.aborted && attempt < 20; attempt++) {
        try {
          for await (const { event } of clients.training.watchDatasetBuild({ name, afterSequence: BigInt(last.current) }, { signal: abort.signal })) {
            if (!event || Number(event.sequence) <= last.current) continue;
            last.current = Number(event.sequence);
            const e = event.event;
            setView((v) => {
              const next = { ...v, lastSequence: last.current };
              if (e.case === "stateChange") { next.state = enumName(DatasetState, e.value.state); next.reason = e.value.reason; }
              else if (e.case === "progress") {
                next.done = Number(e.value.done); next.total = Number(e.value.total); next.stage = e.value.stage;
                next.etaSeconds = durationSeconds(e.value.eta);
              } else if (e.case === "warning") next.messages = [...v.messages, `warning: ${e.value.message}`];
              else if (e.case === "error") next.messages = [...v.messages, `${e.value.code}: ${e.value.message}`];
              return next;
            });
          }
          endRef.current();
          return;
        } catch (error) {
          if (abort.signal.aborted) return;
          const code = ConnectError.from(error).code;
          if (code !== Code.Unavailable && code !== Code.Unknown && code !== Code.DeadlineExceeded) {
            setView((v) => ({ ...v, messages: [...v.messages, `watch failed: ${ConnectError.from(error).rawMessage}`] }));
            return;
          }
          await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 10_000)));
        }
      }
    })();
    return () => abort.abort();
  }, [name, active, clients]);
  return view;
}
