// One run, watched live: state, per-model progress (epochs and batches for Keras models;
// a working indicator with the elapsed time for the others, which report only a start and
// an end), ETA, loss curves, validation scores and prediction intervals, cancel.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { ConfirmButton, ErrorNotice, Progress, StateBadge } from "../components/common";
import { ModelState, type ModelResult } from "../gen/tsforge/training/v1/training_resources_pb";
import { enumName, formatDuration, formatNumber, formatTime, lastSegment } from "../lib/format";
import { metrics } from "../lib/metrics";
import { href } from "../lib/router";
import { describeIntervals } from "./intervals";
import { LossChart } from "./LossChart";
import { modelTypeLabel, reportsEpochs } from "./modelTypes";
import { elapsedSeconds, isTerminal, shortModel, withStoredStates, type ModelView, type SequencedEvent } from "./runEvents";
import { loadPlan } from "./trainAuto";
import { useRunWatch } from "./useRunWatch";

// Now, once a second while `ticking` (elapsed times of running models).
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [ticking]);
  return now;
}

export function RunDetail({ name }: { name: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const q = useQuery({ queryKey: ["run", name], queryFn: () => clients.training.getRun({ name }) });
  const run = q.data?.run;
  // Event time (service) of each epoch end not drawn yet; the chart's draw hook takes them.
  const undrawn = useRef<number[]>([]);
  const onEvent = useCallback((e: SequencedEvent, live: boolean) => {
    if (e.data.kind === "epochEnd" && live) undrawn.current.push(e.timeMs);
    // A finished model's validation score and intervals are in GetRun: read it again.
    if (e.data.kind === "modelFinished" && live) queryClient.invalidateQueries({ queryKey: ["run", name] });
    // The run list shows the state too (QUEUED → RUNNING → …).
    if (e.data.kind === "stateChange" && live) queryClient.invalidateQueries({ queryKey: ["runs"] });
    if (e.data.kind === "stateChange" && isTerminal({ state: e.data.state } as never)) {
      queryClient.invalidateQueries({ queryKey: ["run", name] });
      queryClient.invalidateQueries({ queryKey: ["runs"] });
    }
  }, [name, queryClient]);
  const onDraw = useCallback(() => {
    const now = Date.now();
    for (const t of undrawn.current.splice(0)) metrics().chartDraws.push({ eventMs: t, drawnMs: now });
  }, []);
  const { view: watched, status } = useRunWatch(run, onEvent);
  const view = useMemo(
    () => watched && run
      ? withStoredStates(watched, run.models.map((m) => ({ name: m.name, state: enumName(ModelState, m.state), failureReason: m.failureReason })))
      : watched,
    [watched, run],
  );
  const models = useMemo(() => view?.models ?? [], [view]);
  const plan = useMemo(() => loadPlan(sessionStorage, name), [name]);
  const now = useNow(models.some((m) => m.state === "RUNNING") && !!view && !isTerminal(view));
  if (q.error) return <section className="card grow"><ErrorNotice error={q.error} /></section>;
  if (!run || !view) return <section className="card grow"><p role="status">Loading run…</p></section>;
  const state = view.state;
  const cancel = () => clients.training.cancelRun({ name }).then(() => queryClient.invalidateQueries({ queryKey: ["runs"] }), setError);
  const results = new Map(run.models.map((m) => [m.name, m]));
  return (
    <section aria-labelledby="run-heading" className="card grow" data-testid="run-detail" data-state={state}
      data-last-sequence={view.lastSequence} data-attaches={status.attaches} data-attached-after={status.attachedAfter}>
      <h2 id="run-heading">{run.displayName || lastSegment(run.name)} <StateBadge state={state} /></h2>
      <p className="muted">
        Dataset <a href={href("sessions", lastSegment(run.session), { dataset: run.dataset })}>{lastSegment(run.dataset)}</a> ·
        created {formatTime(run.createTime)} · event {view.lastSequence}
        {status.connected ? " · live" : ""}{status.attaches > 1 ? ` · re-attached after event ${status.attachedAfter}` : ""}
      </p>
      {status.error && <p role="status" className="warning">{status.error}</p>}
      {view.reason && <p role="alert" className={state === "FAILED" ? "error" : ""}>{view.reason}</p>}
      {view.build && state === "QUEUED" && (
        <Progress label="Dataset build" value={view.build.done} max={view.build.total} text={`dataset: ${view.build.stage} ${view.build.done}/${view.build.total}`} />
      )}
      <div className="actions">
        {!isTerminal(view) && <ConfirmButton label="Cancel run" confirmLabel="Cancel this run" onConfirm={cancel} />}
        {state === "SUCCEEDED" && (
          <>
            <a className="button" href={href("evaluation", lastSegment(run.name))}>Evaluate</a>
            <a className="button secondary" href={href("registry", "", { source: run.name })}>Register a model</a>
          </>
        )}
      </div>
      <ErrorNotice error={error} />
      {plan && (
        <details className="plan" data-testid="auto-plan" open={!isTerminal(view)}>
          <summary>Chosen by the automatic preset{plan.timeLimitSeconds ? ` (time limit ${formatDuration(plan.timeLimitSeconds)})` : ""}</summary>
          <ul>{plan.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>
        </details>
      )}
      <ModelsTable models={models} results={results} now={now} />
      <LossChart models={models} onDraw={onDraw} />
      {view.summary && (
        <p data-testid="run-summary">Summary: {view.summary.succeeded} succeeded, {view.summary.failed} failed, {view.summary.cancelled} cancelled
          {view.summary.skipped ? `, ${view.summary.skipped} skipped (time budget spent)` : ""}
          {view.summary.bestModel ? `; best on validation (MAE): ${shortModel(view.summary.bestModel)}` : ""}; took {formatDuration(view.summary.durationSeconds)}.</p>
      )}
      {view.messages.length > 0 && <ul className="messages">{view.messages.map((m, i) => <li key={i}>{m}</li>)}</ul>}
    </section>
  );
}

// Progress of one model: epochs (and the batch within) for Keras models; for the others,
// which send no epochs, that they are working and for how long.
function ModelProgress({ m, now }: { m: ModelView; now: number }) {
  const who = shortModel(m.name);
  if (reportsEpochs(m.modelType) || m.totalEpochs) {
    return (
      <>
        {m.totalEpochs ? <Progress label={`Epochs of ${who}`} value={m.epochs.length} max={m.totalEpochs} text={`epoch ${m.epochs.length}/${m.totalEpochs}`} /> : m.state === "RUNNING" ? <span>starting…</span> : "–"}
        {m.batch && <Progress label={`Batches of ${who}`} value={m.batch.batch} max={m.batch.totalBatches} text={`batch ${m.batch.batch}/${m.batch.totalBatches}`} />}
      </>
    );
  }
  const elapsed = elapsedSeconds(m, now);
  if (m.state === "RUNNING") {
    return (
      <div className="progress working" data-testid="working">
        <progress aria-label={`${who} is training`} />
        <span>working{elapsed != null && elapsed >= 1 ? `, ${formatDuration(Math.floor(elapsed))}` : ""}</span>
      </div>
    );
  }
  if (m.state === "SUCCEEDED") return <span>done</span>;
  return <span>–</span>;
}

function ModelsTable({ models, results, now }: { models: ModelView[]; results: Map<string, ModelResult>; now: number }) {
  return (
    <div className="table-scroll">
      <table aria-label="Models" data-testid="run-models">
        <thead>
          <tr>
            <th scope="col">Model</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Progress</th>
            <th scope="col">ETA / time</th><th scope="col">Validation MAE</th><th scope="col">Prediction intervals</th>
          </tr>
        </thead>
        <tbody>
          {models.map((m) => {
            const r = results.get(m.name);
            const intervals = r?.intervals ? describeIntervals(r.intervals.levels, r.intervals.halfWidths) : null;
            return (
              <tr key={m.name} data-model={shortModel(m.name)} data-state={m.state} data-type={m.modelType}>
                <td>{shortModel(m.name)}</td>
                <td>{modelTypeLabel(m.modelType)}</td>
                <td><StateBadge state={m.state} />{m.failureReason && <span className="error"> {m.failureReason}</span>}</td>
                <td><ModelProgress m={m} now={now} /></td>
                <td>{m.state === "RUNNING" ? (m.etaSeconds != null ? `ETA ${formatDuration(m.etaSeconds)}` : "–") : m.durationSeconds != null ? `took ${formatDuration(m.durationSeconds)}` : "–"}</td>
                <td>{r?.validation ? formatNumber(r.validation.mae) : "–"}</td>
                <td data-testid="intervals">
                  {intervals ? (
                    <>
                      {intervals.widths.join("; ")}
                      <div className="muted">conformal, {String(r!.intervals!.calibrationSampleCount)} validation windows</div>
                    </>
                  ) : "–"}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
