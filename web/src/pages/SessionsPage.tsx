// Sessions: create one (files, window, calendar, split), build its dataset with live
// progress, and see the dataset's window counts and violin plots.
import { useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { ErrorNotice, Pager, Progress, StateBadge, usePager } from "../components/common";
import {
  DatasetObjectKind, DatasetState, type CalendarFeatures, type Dataset,
} from "../gen/tsforge/training/v1/training_resources_pb";
import { ResamplingMethod } from "../gen/tsforge/common/v1/common_pb";
import { enumName, formatDuration, formatTime, lastSegment } from "../lib/format";
import { href, navigate, type Route } from "../lib/router";
import { SessionFormView } from "../sessions/SessionForm";
import { TrainAutoForm } from "../runs/TrainAutoForm";
import { useDatasetBuild } from "../sessions/useDatasetBuild";
import { collectDownload } from "../lib/download";
import { downloads } from "../lib/limit";

export function SessionsPage({ route }: { route: Route }) {
  const creating = route.id === "new";
  const selected = route.id && !creating ? `sessions/${route.id}` : "";
  return (
    <>
      <h1>Sessions</h1>
      <div className="split">
        <SessionList selected={selected} />
        {creating && <SessionFormView onCreated={(s) => navigate("sessions", lastSegment(s.name))} />}
        {selected && <SessionDetail name={selected} dataset={route.params.get("dataset") ?? ""} />}
      </div>
    </>
  );
}

function SessionList({ selected }: { selected: string }) {
  const clients = useClients();
  const pager = usePager();
  const q = useQuery({
    queryKey: ["sessions", pager.token],
    queryFn: () => clients.training.listSessions({ pageSize: 20, pageToken: pager.token }),
  });
  return (
    <section aria-labelledby="sessions-heading" className="card narrow">
      <h2 id="sessions-heading">Your sessions</h2>
      <p><a className="button" href={href("sessions", "new")}>New session</a></p>
      <ErrorNotice error={q.error} title="Could not list sessions" />
      <ul className="list" aria-label="Sessions">
        {q.data?.sessions.map((s) => (
          <li key={s.name} className={s.name === selected ? "selected" : ""}>
            <a href={href("sessions", lastSegment(s.name))} aria-current={s.name === selected ? "true" : undefined}>{s.displayName}</a>
            <span className="muted"> {formatTime(s.createTime)}</span>
          </li>
        ))}
        {q.data?.sessions.length === 0 && <li>No sessions yet.</li>}
      </ul>
      <Pager pager={pager} nextPageToken={q.data?.nextPageToken} label="Sessions" />
    </section>
  );
}

function calendarInWords(c: CalendarFeatures | undefined): string {
  const on = (["year", "month", "week", "day", "holiday"] as const).filter((k) => c?.[k]);
  if (!c || !on.length) return "none";
  const holiday = c.holiday ? ` (${c.holidayCountry}${c.holidaySubdivision ? "-" + c.holidaySubdivision : ""})` : "";
  return `${on.join(", ")}${holiday}, ${c.timeZone || "UTC"}`;
}

function SessionDetail({ name, dataset }: { name: string; dataset: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const pager = usePager();
  const [error, setError] = useState<unknown>(null);
  const session = useQuery({ queryKey: ["session", name], queryFn: () => clients.training.getSession({ name }) });
  const datasets = useQuery({
    queryKey: ["datasets", name, pager.token],
    queryFn: () => clients.training.listDatasets({ parent: name, pageSize: 10, pageToken: pager.token }),
  });
  const s = session.data?.session;
  const build = async () => {
    setError(null);
    try {
      const r = await clients.training.buildDataset({ parent: name });
      await queryClient.invalidateQueries({ queryKey: ["datasets", name] });
      navigate("sessions", lastSegment(name), { dataset: r.dataset!.name });
    } catch (e) {
      setError(e);
    }
  };
  if (session.error) return <section className="card grow"><ErrorNotice error={session.error} /></section>;
  if (!s) return <section className="card grow"><p role="status">Loading…</p></section>;
  const spec = s.spec;
  const chosen = dataset || datasets.data?.datasets[0]?.name || "";
  return (
    <section aria-labelledby="session-heading" className="card grow" data-testid="session-detail">
      <h2 id="session-heading">{s.displayName}</h2>
      {s.description && <p>{s.description}</p>}
      <div className="table-scroll">
        <table aria-label="Features">
          <thead><tr><th scope="col">Role</th><th scope="col">Feature</th><th scope="col">File / column</th><th scope="col">Horizon (h)</th><th scope="col">Resampling</th><th scope="col">Scaling</th></tr></thead>
          <tbody>
            {[...(spec?.inputs.map((f) => ["input", f] as const) ?? []), ...(spec?.outputs.map((f) => ["output", f] as const) ?? [])].map(([role, f], i) => (
              <tr key={i}><td>{role}</td><td>{f.feature}</td><td>{lastSegment(f.file)} / {f.column}</td>
                <td>{f.horizon?.start} … {f.horizon?.end}</td><td>{enumName(ResamplingMethod, f.resampling).toLowerCase()}</td>
                <td>{f.scaling?.min} … {f.scaling?.max}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <dl className="facts">
        <dt>Window</dt><dd>{spec?.window?.inputSteps} input steps → {spec?.window?.outputSteps} output steps, every {spec?.window?.stepMinutes} min (offset {spec?.window?.offsetMinutes})</dd>
        <dt>Calendar</dt><dd>{calendarInWords(spec?.calendar)}</dd>
        <dt>Seasonal lags</dt><dd data-testid="session-lags">{spec?.lags.length ? spec.lags.map((l) => `${l.feature} (${l.lagHours} h before each output step)`).join(", ") : "none"}</dd>
        <dt>Calendar at the output steps</dt><dd>{calendarInWords(spec?.futureCalendar)}</dd>
        <dt>Split</dt><dd>{spec?.split?.trainFraction} / {spec?.split?.validationFraction} / {spec?.split?.testFraction}, {spec?.split?.method === 2 ? `shuffled (seed ${spec.split.seed})` : "chronological"}</dd>
      </dl>
      <p><button type="button" onClick={build}>Build dataset</button></p>
      <ErrorNotice error={error} title="The build was not started" />
      <TrainAutoForm session={name} />
      <h3>Datasets</h3>
      <ErrorNotice error={datasets.error} />
      <ul className="list" aria-label="Datasets">
        {datasets.data?.datasets.map((d) => (
          <li key={d.name} className={d.name === chosen ? "selected" : ""}>
            <a href={href("sessions", lastSegment(name), { dataset: d.name })} aria-current={d.name === chosen ? "true" : undefined}>{lastSegment(d.name)}</a>{" "}
            <StateBadge state={enumName(DatasetState, d.state)} /> <span className="muted">{formatTime(d.createTime)}</span>
          </li>
        ))}
      </ul>
      <Pager pager={pager} nextPageToken={datasets.data?.nextPageToken} label="Datasets" />
      {chosen && <DatasetDetail key={chosen} name={chosen} />}
    </section>
  );
}

function DatasetDetail({ name }: { name: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const q = useQuery({ queryKey: ["dataset", name], queryFn: () => clients.training.getDataset({ name }) });
  const d = q.data?.dataset;
  const building = !!d && (d.state === DatasetState.QUEUED || d.state === DatasetState.BUILDING);
  const build = useDatasetBuild(name, building, () => {
    queryClient.invalidateQueries({ queryKey: ["dataset", name] });
    queryClient.invalidateQueries({ queryKey: ["datasets"] });
  });
  if (q.error) return <ErrorNotice error={q.error} />;
  if (!d) return <p role="status">Loading dataset…</p>;
  const state = building && build.state ? build.state : enumName(DatasetState, d.state);
  return (
    <div className="dataset" data-testid="dataset-detail" data-state={state}>
      <h3>Dataset {lastSegment(d.name)} <StateBadge state={state} /></h3>
      {building && (
        <div aria-live="polite">
          <Progress label="Dataset build" value={build.done} max={build.total}
            text={`${build.stage || "waiting for a worker"} ${build.total ? `${build.done}/${build.total}` : ""} · ETA ${formatDuration(build.etaSeconds)}`} />
        </div>
      )}
      {build.messages.length > 0 && <ul className="messages">{build.messages.map((m, i) => <li key={i}>{m}</li>)}</ul>}
      {d.state === DatasetState.FAILED && <p role="alert" className="error">The build failed: {d.failureReason}</p>}
      {d.state === DatasetState.READY && <ReadyDataset dataset={d} />}
    </div>
  );
}

function ReadyDataset({ dataset: d }: { dataset: Dataset }) {
  const violins = d.objects.filter((o) => o.kind === DatasetObjectKind.VIOLIN_PLOT);
  return (
    <>
      <dl className="facts">
        <dt>Windows</dt><dd data-testid="window-counts">train {String(d.trainSampleCount)}, validation {String(d.validationSampleCount)}, test {String(d.testSampleCount)}; dropped {String(d.droppedSampleCount)}</dd>
        <dt>X / y shape</dt><dd>({d.xShape.map(String).join(", ")}) / ({d.yShape.map(String).join(", ")})</dd>
        <dt>Inputs</dt><dd>{d.inputFeatureNames.join(", ")}</dd>
        {d.futureShape.length > 0 && Number(d.futureShape[2] ?? 0) > 0 && (
          <>
            <dt>Future window</dt><dd data-testid="future-window">({d.futureShape.map(String).join(", ")}): {d.futureFeatureNames.join(", ")}</dd>
          </>
        )}
        <dt>Outputs</dt><dd>{d.outputFeatureNames.join(", ")}</dd>
      </dl>
      <p><a className="button" href={href("runs", "", { dataset: d.name })}>Train models on this dataset</a></p>
      <h4>Distributions (scaled, per split)</h4>
      <div className="plots">
        {violins.map((o) => <DatasetImage key={o.id} dataset={d.name} objectId={o.id} alt={`Violin plot of ${o.feature} per split`} />)}
      </div>
    </>
  );
}

function DatasetImage({ dataset, objectId, alt }: { dataset: string; objectId: string; alt: string }) {
  const clients = useClients();
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let revoked = false;
    let objectUrl = "";
    downloads(() => collectDownload(clients.training.downloadDatasetObject({ name: dataset, objectId }), undefined, objectId)).then(
      (r) => { if (!revoked) { objectUrl = URL.createObjectURL(r.blob); setUrl(objectUrl); } },
      setError,
    );
    return () => { revoked = true; if (objectUrl) URL.revokeObjectURL(objectUrl); };
  }, [clients, dataset, objectId]);
  if (error) return <ErrorNotice error={error} title={`No ${objectId}`} />;
  return url ? <img src={url} alt={alt} className="plot" /> : <p role="status">Loading {objectId}…</p>;
}
