// Registry: registered models and their versions (newest first) with lineage, tags and
// aliases; register a model of a run; set and move aliases; download a version with
// progress; predict with NAME@ALIAS on uploaded files and see the forecast after the
// recent actual values.
import { useMemo, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { ConfirmButton, ErrorNotice, Field, Pager, Progress, usePager } from "../components/common";
import { describeError, type FieldProblem } from "../api/errors";
import { LineChart, PALETTE } from "../charts/LineChart";
import { ArtifactFormat, ModelType } from "../gen/tsforge/common/v1/common_pb";
import type { ModelVersion } from "../gen/tsforge/models/v1/models_resources_pb";
import type { PredictResponse } from "../gen/tsforge/models/v1/models_service_pb";
import { ModelState, RunState } from "../gen/tsforge/training/v1/training_resources_pb";
import { collectDownload, saveBlob, toCsv } from "../lib/download";
import { durationSeconds, enumName, formatBytes, formatNumber, formatTime, lastSegment, timestampFromMs, timestampMs } from "../lib/format";
import { downloads } from "../lib/limit";
import { href, navigate, type Route } from "../lib/router";
import { parseSeries } from "../lib/csvSeries";
import { rowLabel, scoreOf, METRICS } from "../evaluation/tables";
import { shortModel } from "../runs/runEvents";
import { modelTypeLabel } from "../runs/modelTypes";
import { DataSplit } from "../gen/tsforge/common/v1/common_pb";
import { ValueUnits } from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";

export default function RegistryPage({ route }: { route: Route }) {
  const model = route.id ? `registeredModels/${route.id}` : "";
  return (
    <>
      <h1>Model registry</h1>
      <Register source={route.params.get("source") ?? ""} />
      <div className="split">
        <ModelList selected={model} />
        {model && <ModelDetail key={model} name={model} version={route.params.get("version") ?? ""} />}
      </div>
      <Predict initial={model ? `${model}@production` : ""} />
    </>
  );
}

function Register({ source }: { source: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const [run, setRun] = useState(source);
  const [model, setModel] = useState("");
  const [id, setId] = useState("");
  const [description, setDescription] = useState("");
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const runs = useQuery({ queryKey: ["runs", RunState.SUCCEEDED, "for-register"], queryFn: () => clients.training.listRuns({ pageSize: 50, state: RunState.SUCCEEDED }) });
  const runQ = useQuery({ queryKey: ["run", run], queryFn: () => clients.training.getRun({ name: run }), enabled: !!run });
  const models = runQ.data?.run?.models.filter((m) => m.state === ModelState.SUCCEEDED) ?? [];
  const submit = async () => {
    setError(null);
    setProblems([]);
    const local: FieldProblem[] = [];
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(id)) local.push({ field: "parent", description: "lower-case letters, digits and -, starting with a letter (at most 63)" });
    if (!model) local.push({ field: "model_version.source_model", description: "choose a trained model" });
    if (local.length) { setProblems(local); return; }
    setBusy(true);
    try {
      const r = await clients.models.registerModelVersion({
        parent: `registeredModels/${id}`, modelVersion: { sourceModel: model, description }, registeredModelDescription: description,
      }, { timeoutMs: 120_000 });
      await queryClient.invalidateQueries({ queryKey: ["registered"] });
      navigate("registry", id, { version: String(r.modelVersion!.version) });
    } catch (e) {
      setError(e);
      setProblems(describeError(e).fields);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" aria-labelledby="register-heading" noValidate onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2 id="register-heading">Register a trained model</h2>
      <div className="form-row">
        <Field label="Run">
          {(p) => (
            <select {...p} value={run} onChange={(e) => { setRun(e.target.value); setModel(""); }}>
              <option value="">choose a finished run</option>
              {run && !runs.data?.runs.some((r) => r.name === run) && <option value={run}>{lastSegment(run)}</option>}
              {runs.data?.runs.map((r) => <option key={r.name} value={r.name}>{r.displayName || lastSegment(r.name)} ({formatTime(r.endTime)})</option>)}
            </select>
          )}
        </Field>
        <Field label="Model of the run" path="model_version.source_model" problems={problems}>
          {(p) => (
            <select {...p} value={model} onChange={(e) => setModel(e.target.value)}>
              <option value="">choose a model</option>
              {models.map((m) => <option key={m.name} value={m.name}>{shortModel(m.name)} ({modelTypeLabel(enumName(ModelType, m.modelType))})</option>)}
            </select>
          )}
        </Field>
        <Field label="Registered model name" path="parent" problems={problems} help="e.g. load-forecast; a new name creates it">
          {(p) => <input {...p} value={id} onChange={(e) => setId(e.target.value.trim())} />}
        </Field>
        <Field label="Description" path="model_version.description" problems={problems}>
          {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
        <button type="submit" disabled={busy}>{busy ? "Registering…" : "Register"}</button>
      </div>
      <ErrorNotice error={error} title="Not registered" />
    </form>
  );
}

function ModelList({ selected }: { selected: string }) {
  const clients = useClients();
  const pager = usePager();
  const [prefix, setPrefix] = useState("");
  const [tag, setTag] = useState("");
  const q = useQuery({
    queryKey: ["registered", prefix, tag, pager.token],
    queryFn: () => clients.models.listRegisteredModels({ pageSize: 20, pageToken: pager.token, namePrefix: prefix, tag }),
  });
  return (
    <section className="card narrow" aria-labelledby="registered-heading">
      <h2 id="registered-heading">Registered models</h2>
      <div className="form-row">
        <Field label="Name starts with">{(p) => <input {...p} value={prefix} onChange={(e) => { setPrefix(e.target.value); pager.reset(); }} />}</Field>
        <Field label="Tag (key or key=value)">{(p) => <input {...p} value={tag} onChange={(e) => { setTag(e.target.value); pager.reset(); }} />}</Field>
      </div>
      <ErrorNotice error={q.error} />
      <ul className="list" aria-label="Registered models">
        {q.data?.registeredModels.map((m) => (
          <li key={m.name} className={m.name === selected ? "selected" : ""}>
            <a href={href("registry", lastSegment(m.name))} aria-current={m.name === selected ? "true" : undefined}>{lastSegment(m.name)}</a>
            <span className="muted"> v{String(m.latestVersion)}{Object.keys(m.aliases).length ? " · " + Object.entries(m.aliases).map(([a, v]) => `${a}→v${v}`).join(", ") : ""}</span>
          </li>
        ))}
        {q.data?.registeredModels.length === 0 && <li>None yet.</li>}
      </ul>
      <Pager pager={pager} nextPageToken={q.data?.nextPageToken} label="Registered models" />
    </section>
  );
}

function ModelDetail({ name, version }: { name: string; version: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const pager = usePager();
  const [alias, setAlias] = useState("production");
  const [aliasVersion, setAliasVersion] = useState(version);
  const [error, setError] = useState<unknown>(null);
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const model = useQuery({ queryKey: ["registered-model", name], queryFn: () => clients.models.getRegisteredModel({ name }) });
  const versions = useQuery({
    queryKey: ["versions", name, pager.token],
    queryFn: () => clients.models.listModelVersions({ parent: name, pageSize: 10, pageToken: pager.token }),
  });
  const m = model.data?.registeredModel;
  const chosen = versions.data?.modelVersions.find((v) => String(v.version) === version) ?? versions.data?.modelVersions[0];
  const refresh = () => Promise.all([
    queryClient.invalidateQueries({ queryKey: ["registered-model", name] }),
    queryClient.invalidateQueries({ queryKey: ["versions", name] }),
    queryClient.invalidateQueries({ queryKey: ["registered"] }),
  ]);
  const setAliasNow = async () => {
    setError(null);
    setProblems([]);
    try {
      await clients.models.setAlias({ name, alias: alias.trim(), version: BigInt(aliasVersion || String(chosen?.version ?? 0)) });
      await refresh();
    } catch (e) {
      setError(e);
      setProblems(describeError(e).fields);
    }
  };
  if (model.error) return <section className="card grow"><ErrorNotice error={model.error} /></section>;
  if (!m) return <section className="card grow"><p role="status">Loading…</p></section>;
  return (
    <section className="card grow" aria-labelledby="model-heading" data-testid="registered-model">
      <h2 id="model-heading">{lastSegment(m.name)}</h2>
      {m.description && <p>{m.description}</p>}
      <dl className="facts">
        <dt>Latest version</dt><dd>{String(m.latestVersion)}</dd>
        <dt>Tags</dt><dd>{Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(", ") || "none"}</dd>
        <dt>Aliases</dt>
        <dd data-testid="aliases">
          {Object.entries(m.aliases).length === 0 ? "none" : Object.entries(m.aliases).map(([a, v]) => (
            <span key={a} className="alias">{a} → v{String(v)}{" "}
              <ConfirmButton label={`Remove ${a}`} confirmLabel={`Remove alias ${a}`} onConfirm={() =>
                clients.models.deleteAlias({ name, alias: a }).then(refresh, setError)} />
            </span>
          ))}
        </dd>
      </dl>
      <form className="form-row" onSubmit={(e) => { e.preventDefault(); setAliasNow(); }} aria-label="Set an alias">
        <Field label="Alias" path="alias" problems={problems} help="e.g. production, staging">
          {(p) => <input {...p} value={alias} onChange={(e) => setAlias(e.target.value)} />}
        </Field>
        <Field label="Version" path="version" problems={problems}>
          {(p) => (
            <select {...p} value={aliasVersion || String(chosen?.version ?? "")} onChange={(e) => setAliasVersion(e.target.value)}>
              {versions.data?.modelVersions.map((v) => <option key={v.name} value={String(v.version)}>v{String(v.version)}</option>)}
            </select>
          )}
        </Field>
        <button type="submit">Set alias</button>
      </form>
      <ErrorNotice error={error} />
      <h3>Versions</h3>
      <ErrorNotice error={versions.error} />
      <div className="table-scroll">
        <table aria-label="Versions">
          <thead><tr><th scope="col">Version</th><th scope="col">Source</th><th scope="col">Type</th><th scope="col">Aliases</th><th scope="col">Registered</th></tr></thead>
          <tbody>
            {versions.data?.modelVersions.map((v) => (
              <tr key={v.name} className={v === chosen ? "selected" : ""}>
                <td><a href={href("registry", lastSegment(name), { version: String(v.version) })} aria-current={v === chosen ? "true" : undefined}>v{String(v.version)}</a></td>
                <td>{shortModel(v.sourceModel)} of {lastSegment(v.lineage?.run ?? "")}</td>
                <td>{modelTypeLabel(enumName(ModelType, v.lineage?.modelType ?? 0))}</td>
                <td>{v.aliases.join(", ")}</td>
                <td>{formatTime(v.createTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager pager={pager} nextPageToken={versions.data?.nextPageToken} label="Versions" />
      {chosen && <VersionDetail key={chosen.name} v={chosen} />}
    </section>
  );
}

function VersionDetail({ v }: { v: ModelVersion }) {
  const clients = useClients();
  const [format, setFormat] = useState(ArtifactFormat.BUNDLE);
  const [progress, setProgress] = useState<{ received: number; total: number } | null>(null);
  const [done, setDone] = useState<{ name: string; size: number; sha256: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const l = v.lineage;
  const overall = l?.metrics.find((t) => t.split === DataSplit.TEST && t.units === ValueUnits.ORIGINAL);
  const download = async () => {
    setError(null);
    setDone(null);
    setProgress({ received: 0, total: 0 });
    try {
      const d = await downloads(() => collectDownload(
        clients.models.downloadModelVersion({ name: v.name, format }),
        (received, total) => setProgress({ received, total }),
        `${lastSegment(v.name)}.bin`,
      ));
      setDone({ name: d.fileName, size: d.sizeBytes, sha256: d.sha256 });
      saveBlob(d.blob, d.fileName);
    } catch (e) {
      setError(e);
    }
  };
  const w = l?.datasetSpec?.window;
  return (
    <div className="version" data-testid="version-detail" data-version={String(v.version)}>
      <h3>Version {String(v.version)}</h3>
      <dl className="facts">
        <dt>Lineage</dt>
        <dd>run <a href={href("runs", lastSegment(l?.run ?? ""))}>{lastSegment(l?.run ?? "")}</a>, model {shortModel(l?.model ?? "")}, dataset {lastSegment(l?.dataset ?? "")} of session {lastSegment(l?.session ?? "")}</dd>
        <dt>Window</dt><dd>{w ? `${w.inputSteps} → ${w.outputSteps} steps, every ${w.stepMinutes} min` : "–"}{l?.gapTolerance ? `, gap tolerance ${durationSeconds(l.gapTolerance)} s` : ""}</dd>
        <dt>Inputs</dt><dd>{l?.inputFeatureNames.join(", ")}</dd>
        <dt>Outputs</dt><dd>{l?.outputFeatureNames.join(", ")}</dd>
        <dt>Tags</dt><dd>{Object.entries(v.tags).map(([k, val]) => `${k}=${val}`).join(", ") || "none"}</dd>
        {v.description && (<><dt>Description</dt><dd>{v.description}</dd></>)}
        <dt>Bundle</dt><dd>{formatBytes(v.bundle?.sizeBytes ?? 0n)}, SHA-256 <span className="mono">{v.bundle?.sha256.slice(0, 16)}…</span></dd>
      </dl>
      {overall && (
        <div className="table-scroll">
          <table aria-label="Test metrics at registration">
            <thead><tr><th scope="col">Model or baseline</th><th scope="col">Feature</th>{METRICS.slice(0, 4).map((mm) => <th scope="col" key={mm.metric}>{mm.label}</th>)}</tr></thead>
            <tbody>
              {overall.rows.map((r, i) => (
                <tr key={i}><th scope="row">{rowLabel(r)}</th><td>{r.feature}</td>{METRICS.slice(0, 4).map((mm) => <td key={mm.metric}>{formatNumber(scoreOf(r, mm.metric).value)}</td>)}</tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form className="form-row" onSubmit={(e) => { e.preventDefault(); download(); }} aria-label="Download this version">
        <Field label="Format">
          {(p) => (
            <select {...p} value={format} onChange={(e) => setFormat(Number(e.target.value))}>
              {v.formats.map((f) => <option key={f} value={f}>{enumName(ArtifactFormat, f).toLowerCase()}</option>)}
            </select>
          )}
        </Field>
        <button type="submit">Download</button>
      </form>
      {progress && !done && !error && <Progress label="Download" value={progress.received} max={progress.total} text={`${formatBytes(progress.received)} of ${formatBytes(progress.total)}`} />}
      {done && <p role="status" data-testid="download-done" data-size={done.size} data-sha256={done.sha256}>Downloaded {done.name}: {formatBytes(done.size)}, SHA-256 checked ({done.sha256.slice(0, 12)}…).</p>}
      <ErrorNotice error={error} title="Download failed" />
    </div>
  );
}

interface Actuals { feature: string; timesMs: number[]; values: number[] }

function Predict({ initial }: { initial: string }) {
  const clients = useClients();
  const [target, setTarget] = useState(initial.replace(/^registeredModels\//, ""));
  const [inputs, setInputs] = useState<Record<string, string>>({});
  const [actualFiles, setActualFiles] = useState<Record<string, string>>({});
  const [at, setAt] = useState("");
  const [result, setResult] = useState<{ response: PredictResponse; actuals: Actuals[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const name = target.includes("@") || target.includes("/versions/") ? `registeredModels/${target}` : "";
  const version = useQuery({ queryKey: ["version", name], queryFn: () => clients.models.getModelVersion({ name }), enabled: !!name, retry: false });
  const files = useQuery({ queryKey: ["files", "all-for-predict"], queryFn: () => clients.upload.listFiles({ pageSize: 200 }) });
  const l = version.data?.modelVersion?.lineage;
  const specInputs = l?.datasetSpec?.inputs ?? [];
  const specOutputs = l?.datasetSpec?.outputs ?? [];

  const predict = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const response = await clients.models.predict({
        name,
        inputs: { case: "files", value: { inputs: specInputs.map((f) => ({ feature: f.feature, file: inputs[f.feature] || f.file, column: f.column })) } },
        referenceTimes: at ? [timestampFromMs(Date.parse(at + "Z"))] : [],
      }, { timeoutMs: 120_000 });
      const actuals: Actuals[] = [];
      for (const out of specOutputs) {
        const file = actualFiles[out.feature] ?? out.file;
        if (!file) continue;
        const meta = files.data?.files.find((f) => f.name === file);
        if (!meta?.profile || Number(meta.sizeBytes) > 16 << 20) continue;
        const d = await downloads(() => collectDownload(clients.upload.downloadFile({ name: file })));
        const series = parseSeries(await d.blob.text(), meta.profile, out.column);
        actuals.push({ feature: out.feature, ...series });
      }
      setResult({ response, actuals });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="predict-heading" data-testid="predict">
      <h2 id="predict-heading">Predict</h2>
      <form onSubmit={(e) => { e.preventDefault(); predict(); }}>
        <div className="form-row">
          <Field label="Model version" help="NAME@ALIAS (e.g. load-forecast@production) or NAME/versions/N">
            {(p) => <input {...p} value={target} onChange={(e) => setTarget(e.target.value.trim())} />}
          </Field>
          <Field label="Reference time (UTC, optional)" help="Empty: the latest the inputs allow">
            {(p) => <input {...p} type="datetime-local" value={at} onChange={(e) => setAt(e.target.value)} />}
          </Field>
        </div>
        {version.error != null && <ErrorNotice error={version.error} title="No such version" />}
        {specInputs.length > 0 && (
          <div className="form-row">
            {specInputs.map((f) => (
              <Field key={f.feature} label={`Input “${f.feature}” from`}>
                {(p) => (
                  <select {...p} value={inputs[f.feature] ?? f.file} onChange={(e) => setInputs({ ...inputs, [f.feature]: e.target.value })}>
                    {files.data?.files.map((file) => <option key={file.name} value={file.name}>{file.displayName} ({file.fileName})</option>)}
                  </select>
                )}
              </Field>
            ))}
            {specOutputs.map((f) => (
              <Field key={f.feature} label={`Actual “${f.feature}” from`} help="Drawn before the forecast">
                {(p) => (
                  <select {...p} value={actualFiles[f.feature] ?? f.file} onChange={(e) => setActualFiles({ ...actualFiles, [f.feature]: e.target.value })}>
                    <option value="">none</option>
                    {files.data?.files.map((file) => <option key={file.name} value={file.name}>{file.displayName} ({file.fileName})</option>)}
                  </select>
                )}
              </Field>
            ))}
          </div>
        )}
        <button type="submit" disabled={busy || !version.data}>{busy ? "Predicting…" : "Predict"}</button>
      </form>
      <ErrorNotice error={error} title="No forecast" />
      {result && <ForecastView {...result} />}
    </section>
  );
}

function ForecastView({ response, actuals }: { response: PredictResponse; actuals: Actuals[] }) {
  const forecast = response.forecasts[response.forecasts.length - 1];
  const refMs = timestampMs(forecast?.referenceTime) ?? 0;
  const rows = useMemo(() => response.forecasts.flatMap((f) => f.features.flatMap((ff) => {
    const steps = response.steps.find((s) => s.feature === ff.feature);
    const ref = timestampMs(f.referenceTime)!;
    return ff.values.map((v, k) => [new Date(ref).toISOString(), ff.feature, k + 1, new Date(ref + (durationSeconds(steps?.offsets[k]) ?? 0) * 1000).toISOString(), v]);
  })), [response]);
  return (
    <div data-testid="forecast" data-model-version={response.modelVersion}>
      <p role="status">Forecast by {response.modelVersion} from {formatTime(refMs)}.</p>
      {forecast?.features.map((ff, i) => {
        const steps = response.steps.find((s) => s.feature === ff.feature);
        const times = ff.values.map((_, k) => refMs + (durationSeconds(steps?.offsets[k]) ?? 0) * 1000);
        const span = (times[times.length - 1] ?? refMs) - refMs;
        const actual = actuals.find((a) => a.feature === ff.feature);
        const past: [number, number][] = [];
        if (actual) {
          for (let j = 0; j < actual.timesMs.length; j++) {
            const t = actual.timesMs[j];
            if (t >= refMs - 2 * Math.max(span, 3_600_000) && t <= refMs) past.push([t, actual.values[j]]);
          }
        }
        const x = [...past.map((p) => p[0]), ...times];
        const actualValues = [...past.map((p) => p[1]), ...times.map(() => null)];
        const forecastValues = [...past.map((_, j) => (j === past.length - 1 ? past[j][1] : null)), ...ff.values];
        return (
          <LineChart key={ff.feature} title={`${ff.feature}: recent actual values and the forecast`} xLabel="time" yLabel={ff.feature} time
            x={x.map((t) => t / 1000)} series={[{ label: "actual", color: "#222" }, { label: "forecast", color: PALETTE[i % PALETTE.length], points: true }]}
            values={[actualValues, forecastValues]} />
        );
      })}
      <div className="table-scroll">
        <table aria-label="Forecast" data-testid="forecast-table">
          <thead><tr><th scope="col">Reference time</th><th scope="col">Feature</th><th scope="col">Step</th><th scope="col">Time</th><th scope="col">Forecast</th></tr></thead>
          <tbody>{rows.slice(0, 48).map((r, i) => <tr key={i}>{r.map((c, j) => <td key={j}>{typeof c === "number" && j === 4 ? formatNumber(c) : String(c)}</td>)}</tr>)}</tbody>
        </table>
      </div>
      <button type="button" className="secondary" onClick={() =>
        saveBlob(new Blob([toCsv(["reference_time", "feature", "step", "time", "forecast"], rows)], { type: "text/csv" }), "forecast.csv")}>
        Download the forecast as CSV
      </button>
    </div>
  );
}
