// Runs: choose models and their hyper-parameters, start a run on a dataset, and watch
// it live (state, per-model and batch progress, ETA, loss curves); cancel; list runs.
import { useCallback, useMemo, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { describeError, unclaimed, type FieldProblem } from "../api/errors";
import { ConfirmButton, ErrorNotice, Field, Pager, Progress, StateBadge, usePager } from "../components/common";
import { ModelType } from "../gen/tsforge/common/v1/common_pb";
import { DatasetState, RunState, type Run } from "../gen/tsforge/training/v1/training_resources_pb";
import { enumName, formatDuration, formatTime, lastSegment, timestampMs } from "../lib/format";
import { metrics } from "../lib/metrics";
import { href, navigate, type Route } from "../lib/router";
import { LossChart } from "../runs/LossChart";
import {
  ACTIVATIONS, boundsOf, MODEL_KINDS, newModelRow, SVR_KERNELS, toModelSpec, type ModelKind, type ModelRow,
} from "../runs/modelForm";
import { isTerminal, shortModel, type SequencedEvent } from "../runs/runEvents";
import { useRunWatch } from "../runs/useRunWatch";

export function RunsPage({ route }: { route: Route }) {
  const run = route.id ? `runs/${route.id}` : "";
  return (
    <>
      <h1>Runs</h1>
      <div className="split">
        <RunList selected={run} />
        {run ? <RunDetail key={run} name={run} /> : <NewRun dataset={route.params.get("dataset") ?? ""} />}
      </div>
    </>
  );
}

function runSeconds(r: Run): number | null {
  const start = timestampMs(r.startTime);
  if (start == null) return null;
  return ((timestampMs(r.endTime) ?? Date.now()) - start) / 1000;
}

function RunList({ selected }: { selected: string }) {
  const clients = useClients();
  const pager = usePager();
  const [state, setState] = useState<RunState>(RunState.UNSPECIFIED);
  const q = useQuery({
    queryKey: ["runs", state, pager.token],
    queryFn: () => clients.training.listRuns({ pageSize: 15, pageToken: pager.token, state }),
  });
  return (
    <section aria-labelledby="runs-heading" className="card narrow">
      <h2 id="runs-heading">Your runs</h2>
      <p><a className="button" href={href("runs")}>New run</a></p>
      <Field label="State">
        {(p) => (
          <select {...p} value={state} onChange={(e) => { setState(Number(e.target.value)); pager.reset(); }}>
            {[RunState.UNSPECIFIED, RunState.QUEUED, RunState.RUNNING, RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED].map((s) => (
              <option key={s} value={s}>{s === RunState.UNSPECIFIED ? "all" : enumName(RunState, s).toLowerCase()}</option>
            ))}
          </select>
        )}
      </Field>
      <ErrorNotice error={q.error} title="Could not list runs" />
      <ul className="list" aria-label="Runs">
        {q.data?.runs.map((r) => (
          <li key={r.name} className={r.name === selected ? "selected" : ""}>
            <a href={href("runs", lastSegment(r.name))} aria-current={r.name === selected ? "true" : undefined}>
              {r.displayName || lastSegment(r.name)}
            </a>{" "}
            <StateBadge state={enumName(RunState, r.state)} />
            <div className="muted">
              {r.models.map((m) => enumName(ModelType, m.modelType).toLowerCase()).join(", ")} · {formatDuration(runSeconds(r))} · {formatTime(r.createTime)}
            </div>
          </li>
        ))}
        {q.data?.runs.length === 0 && <li>No runs.</li>}
      </ul>
      <Pager pager={pager} nextPageToken={q.data?.nextPageToken} label="Runs" />
    </section>
  );
}

function NewRun({ dataset: initialDataset }: { dataset: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const [session, setSession] = useState(initialDataset ? initialDataset.split("/datasets/")[0] : "");
  const [dataset, setDataset] = useState(initialDataset);
  const [displayName, setDisplayName] = useState("");
  const [rows, setRows] = useState<ModelRow[]>([newModelRow("dense", "dense"), newModelRow("linearRegression", "linear")]);
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const sessions = useQuery({ queryKey: ["sessions", "for-run"], queryFn: () => clients.training.listSessions({ pageSize: 100 }) });
  const datasets = useQuery({
    queryKey: ["datasets", session, "for-run"],
    queryFn: () => clients.training.listDatasets({ parent: session, pageSize: 50 }),
    enabled: !!session,
  });
  const setRow = (i: number, change: Partial<ModelRow>) => setRows((all) => all.map((r, j) => (j === i ? { ...r, ...change } : r)));

  const submit = async () => {
    setError(null);
    const built = rows.map((r, i) => toModelSpec(r, i));
    const local = built.flatMap((b) => b.problems);
    if (!dataset) local.push({ field: "run.dataset", description: "choose a dataset" });
    setProblems(local);
    if (local.length) return;
    setBusy(true);
    try {
      const r = await clients.training.createRun({ run: { dataset, displayName, modelSpecs: built.map((b) => b.spec) } });
      await queryClient.invalidateQueries({ queryKey: ["runs"] });
      navigate("runs", lastSegment(r.run!.name));
    } catch (e) {
      setError(e);
      setProblems(describeError(e).fields);
    } finally {
      setBusy(false);
    }
  };

  const shown = ["run.dataset", "run.display_name", ...rows.map((_, i) => `run.model_specs[${i}]`)];
  return (
    <form aria-labelledby="new-run-heading" noValidate className="card grow" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2 id="new-run-heading">New run</h2>
      <div className="form-row">
        <Field label="Session">
          {(p) => (
            <select {...p} value={session} onChange={(e) => { setSession(e.target.value); setDataset(""); }}>
              <option value="">choose a session</option>
              {sessions.data?.sessions.map((s) => <option key={s.name} value={s.name}>{s.displayName}</option>)}
            </select>
          )}
        </Field>
        <Field label="Dataset" path="run.dataset" problems={problems} help="A dataset still building is fine: the run waits for it.">
          {(p) => (
            <select {...p} value={dataset} onChange={(e) => setDataset(e.target.value)}>
              <option value="">choose a dataset</option>
              {dataset && !datasets.data?.datasets.some((d) => d.name === dataset) && <option value={dataset}>{lastSegment(dataset)}</option>}
              {datasets.data?.datasets.map((d) => (
                <option key={d.name} value={d.name}>{lastSegment(d.name)} ({enumName(DatasetState, d.state).toLowerCase()}, {formatTime(d.createTime)})</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Run name (optional)" path="run.display_name" problems={problems}>
          {(p) => <input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
        </Field>
      </div>
      {rows.map((row, i) => (
        <ModelFields key={i} index={i} row={row} problems={problems} onChange={(c) => setRow(i, c)}
          onRemove={rows.length > 1 ? () => setRows((all) => all.filter((_, j) => j !== i)) : undefined} />
      ))}
      <div className="form-row">
        <Field label="Add a model">
          {(p) => (
            <select {...p} value="" onChange={(e) => {
              const kind = e.target.value as ModelKind;
              if (kind) setRows((all) => [...all, newModelRow(kind)]);
            }}>
              <option value="">choose a type…</option>
              {MODEL_KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.label}</option>)}
            </select>
          )}
        </Field>
      </div>
      <ErrorNotice error={error} title="The run was not started" />
      {unclaimed(problems, shown).length > 0 && (
        <div role="alert"><ul className="field-error">{unclaimed(problems, shown).map((f, i) => <li key={i}><code>{f.field}</code>: {f.description}</li>)}</ul></div>
      )}
      <button type="submit" disabled={busy}>{busy ? "Starting…" : "Start run"}</button>
    </form>
  );
}

function ModelFields({ index, row, problems, onChange, onRemove }: {
  index: number; row: ModelRow; problems: FieldProblem[]; onChange: (c: Partial<ModelRow>) => void; onRemove?: () => void;
}) {
  const info = MODEL_KINDS.find((k) => k.kind === row.kind)!;
  const base = `run.model_specs[${index}]`;
  const params = `${base}.${row.kind.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase())}`;
  return (
    <fieldset className="model" data-model-index={index}>
      <legend>Model {index + 1}: {info.label}</legend>
      <div className="form-row">
        <Field label="Model id" path={`${base}.model_id`} problems={problems} help={`Empty: model-${index + 1}`}>
          {(p) => <input {...p} value={row.modelId} onChange={(e) => onChange({ modelId: e.target.value })} />}
        </Field>
        <Field label="Seed" path={`${base}.seed`} problems={problems}>
          {(p) => <input {...p} inputMode="numeric" value={row.seed} onChange={(e) => onChange({ seed: e.target.value })} />}
        </Field>
        {boundsOf(row.kind).map((b) => {
          const path = b.field === "kernel_size" || info.svr ? `${params}.${b.field}` : `${params}.neural.${b.field}`;
          return (
            <Field key={b.field} label={b.label} path={path} problems={problems} help={`${b.help}; default ${b.defaultValue}`}>
              {(p) => (
                <input {...p} inputMode="decimal" placeholder={String(b.defaultValue)} value={row.values[b.field] ?? ""}
                  data-param={b.field} onChange={(e) => onChange({ values: { ...row.values, [b.field]: e.target.value } })} />
              )}
            </Field>
          );
        })}
        {info.neural && (
          <Field label="Activation" path={`${params}.neural.activation`} problems={problems} help="Default relu">
            {(p) => (
              <select {...p} value={row.activation} onChange={(e) => onChange({ activation: e.target.value as ModelRow["activation"] })}>
                {ACTIVATIONS.map((a) => <option key={a} value={a}>{a.toLowerCase()}</option>)}
              </select>
            )}
          </Field>
        )}
        {info.svr && (
          <Field label="Kernel" path={`${params}.kernel`} problems={problems} help="Default poly">
            {(p) => (
              <select {...p} value={row.svrKernel} onChange={(e) => onChange({ svrKernel: e.target.value as ModelRow["svrKernel"] })}>
                {SVR_KERNELS.map((k) => <option key={k} value={k}>{k.toLowerCase()}</option>)}
              </select>
            )}
          </Field>
        )}
        {onRemove && <button type="button" className="secondary" onClick={onRemove}>Remove model {index + 1}</button>}
      </div>
    </fieldset>
  );
}

function RunDetail({ name }: { name: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const [error, setError] = useState<unknown>(null);
  const q = useQuery({ queryKey: ["run", name], queryFn: () => clients.training.getRun({ name }) });
  const run = q.data?.run;
  // Event time (service) of each epoch end not drawn yet; the chart's draw hook takes them.
  const undrawn = useRef<number[]>([]);
  const onEvent = useCallback((e: SequencedEvent, live: boolean) => {
    if (e.data.kind === "epochEnd" && live) undrawn.current.push(e.timeMs);
    if (e.data.kind === "stateChange" && isTerminal({ state: e.data.state } as never)) {
      queryClient.invalidateQueries({ queryKey: ["run", name] });
      queryClient.invalidateQueries({ queryKey: ["runs"] });
    }
  }, [name, queryClient]);
  const onDraw = useCallback(() => {
    const now = Date.now();
    for (const t of undrawn.current.splice(0)) metrics().chartDraws.push({ eventMs: t, drawnMs: now });
  }, []);
  const { view, status } = useRunWatch(run, onEvent);
  const models = useMemo(() => view?.models ?? [], [view]);
  if (q.error) return <section className="card grow"><ErrorNotice error={q.error} /></section>;
  if (!run || !view) return <section className="card grow"><p role="status">Loading run…</p></section>;
  const state = view.state;
  const cancel = () => clients.training.cancelRun({ name }).then(() => queryClient.invalidateQueries({ queryKey: ["runs"] }), setError);
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
      <div className="table-scroll">
        <table aria-label="Models" data-testid="run-models">
          <thead><tr><th scope="col">Model</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Epoch</th><th scope="col">Batch</th><th scope="col">ETA</th></tr></thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.name} data-model={shortModel(m.name)} data-state={m.state}>
                <td>{shortModel(m.name)}</td>
                <td>{m.modelType.toLowerCase().replace(/_/g, " ")}</td>
                <td><StateBadge state={m.state} />{m.failureReason && <span className="error"> {m.failureReason}</span>}</td>
                <td>{m.totalEpochs ? <Progress label={`Epochs of ${shortModel(m.name)}`} value={m.epochs.length} max={m.totalEpochs} text={`${m.epochs.length}/${m.totalEpochs}`} /> : "–"}</td>
                <td>{m.batch ? <Progress label={`Batches of ${shortModel(m.name)}`} value={m.batch.batch} max={m.batch.totalBatches} text={`${m.batch.batch}/${m.batch.totalBatches}`} /> : "–"}</td>
                <td>{m.state === "RUNNING" ? formatDuration(m.etaSeconds) : m.durationSeconds != null ? `took ${formatDuration(m.durationSeconds)}` : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LossChart models={models} onDraw={onDraw} />
      {view.summary && (
        <p>Summary: {view.summary.succeeded} succeeded, {view.summary.failed} failed, {view.summary.cancelled} cancelled
          {view.summary.bestModel ? `; best by val_loss: ${shortModel(view.summary.bestModel)}` : ""}; took {formatDuration(view.summary.durationSeconds)}.</p>
      )}
      {view.messages.length > 0 && <ul className="messages">{view.messages.map((m, i) => <li key={i}>{m}</li>)}</ul>}
    </section>
  );
}
