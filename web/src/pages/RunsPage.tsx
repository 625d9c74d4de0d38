// Runs: choose models and their hyper-parameters (or train automatically), start a run
// on a dataset, and watch it live (runs/RunDetail); list runs.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { ErrorNotice, Field, Pager, StateBadge, usePager } from "../components/common";
import { ModelType } from "../gen/tsforge/common/v1/common_pb";
import { RunState, type Run } from "../gen/tsforge/training/v1/training_resources_pb";
import { enumName, formatDuration, formatTime, lastSegment, timestampMs } from "../lib/format";
import { href, type Route } from "../lib/router";
import { modelTypeLabel } from "../runs/modelTypes";
import { NewRun } from "../runs/NewRunForm";
import { RunDetail } from "../runs/RunDetail";

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
              {r.models.map((m) => modelTypeLabel(enumName(ModelType, m.modelType))).join(", ")} · {formatDuration(runSeconds(r))} · {formatTime(r.createTime)}
            </div>
          </li>
        ))}
        {q.data?.runs.length === 0 && <li>No runs.</li>}
      </ul>
      <Pager pager={pager} nextPageToken={q.data?.nextPageToken} label="Runs" />
    </section>
  );
}
