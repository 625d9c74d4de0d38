// Follows an unfinished evaluation with WatchEvaluation (one stream; lib/follow), keeping
// the folded view in sessionStorage so a reload re-attaches after the last event seen.
// onFinished runs once the evaluation is READY or FAILED.
import { useEffect, useRef, useState } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import { useClients } from "../app/context";
import { followEvents } from "../lib/follow";
import {
  EVALUATION_FOLD, evaluationEventFromProto, isFinished, loadProgress, saveProgress, startingView,
  type EvaluationProgressView,
} from "./progress";

const TRANSIENT = [Code.Unavailable, Code.Unknown, Code.DeadlineExceeded, Code.Internal, Code.Aborted];

export function useEvaluationWatch(name: string, state: string, onFinished: () => void) {
  const clients = useClients();
  const [view, setView] = useState<EvaluationProgressView | null>(null);
  const [trouble, setTrouble] = useState<string | null>(null);
  const finishedRef = useRef(onFinished);
  finishedRef.current = onFinished;
  const unfinished = state === "QUEUED" || state === "COMPUTING";

  useEffect(() => {
    if (!unfinished) return;
    const start = startingView(loadProgress(sessionStorage, name), name, state);
    setView(start);
    const abort = new AbortController();
    followEvents(start, EVALUATION_FOLD, {
      async *watch(afterSequence, signal) {
        for await (const { event } of clients.evaluation.watchEvaluation({ name, afterSequence: BigInt(afterSequence) }, { signal })) {
          if (event) yield evaluationEventFromProto(event);
        }
      },
      isTransient: (error) => TRANSIENT.includes(ConnectError.from(error).code),
      onView(next) {
        saveProgress(sessionStorage, next);
        setView(next);
        setTrouble(null);
      },
      onAttach: () => {},
      onTrouble: (message) => setTrouble(message),
    }, abort.signal).then((last) => {
      if (!abort.signal.aborted && isFinished(last)) finishedRef.current();
    });
    return () => abort.abort();
  }, [name, unfinished]); // eslint-disable-line react-hooks/exhaustive-deps

  return { view, trouble };
}
