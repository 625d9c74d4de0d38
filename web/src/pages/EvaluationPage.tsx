// Evaluation: evaluate a finished run, rank its models, compare them with the baselines
// (overall, per feature, per step, skill), look at predictions against actual values
// and at residuals, export any table as CSV, and get the service's PNG plots.
import { useEffect, useMemo, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { ErrorNotice, Field, Pager, StateBadge, usePager } from "../components/common";
import { LineChart, PALETTE } from "../charts/LineChart";
import { DataSplit } from "../gen/tsforge/common/v1/common_pb";
import {
  EvaluationState, Metric, MetricTableKind, ValueUnits, type Evaluation, type MetricTable,
} from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import { PlotKind } from "../gen/tsforge/evaluation/v1/evaluation_service_pb";
import { RunState } from "../gen/tsforge/training/v1/training_resources_pb";
import { collectDownload, saveBlob } from "../lib/download";
import { enumName, formatNumber, formatTime, lastSegment, timestampMs } from "../lib/format";
import { downloads } from "../lib/limit";
import { href, navigate, type Route } from "../lib/router";
import {
  baselineLabel, groupBy, histogram, METRICS, residuals, rowLabel, scoreOf, stepOffsetsMinutes, stepSeries,
  type Predictions,
} from "../evaluation/tables";
import { shortModel } from "../runs/runEvents";

export default function EvaluationPage({ route }: { route: Route }) {
  const run = route.id ? `runs/${route.id}` : "";
  return (
    <>
      <h1>Evaluation</h1>
      {run ? <RunEvaluations run={run} selected={route.params.get("evaluation") ?? ""} /> : <FinishedRuns />}
    </>
  );
}

function FinishedRuns() {
  const clients = useClients();
  const pager = usePager();
  const q = useQuery({
    queryKey: ["runs", RunState.SUCCEEDED, pager.token],
    queryFn: () => clients.training.listRuns({ pageSize: 20, pageToken: pager.token, state: RunState.SUCCEEDED }),
  });
  return (
    <section className="card" aria-labelledby="finished-heading">
      <h2 id="finished-heading">Finished runs</h2>
      <ErrorNotice error={q.error} />
      <ul className="list">
        {q.data?.runs.map((r) => (
          <li key={r.name}><a href={href("evaluation", lastSegment(r.name))}>{r.displayName || lastSegment(r.name)}</a>
            <span className="muted"> {r.models.map((m) => shortModel(m.name)).join(", ")} · {formatTime(r.endTime)}</span></li>
        ))}
        {q.data?.runs.length === 0 && <li>No SUCCEEDED run yet.</li>}
      </ul>
      <Pager pager={pager} nextPageToken={q.data?.nextPageToken} label="Runs" />
    </section>
  );
}

function RunEvaluations({ run, selected }: { run: string; selected: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const [season, setSeason] = useState("");
  const [inferSeason, setInferSeason] = useState(true);
  const [model, setModel] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const runQ = useQuery({ queryKey: ["run", run], queryFn: () => clients.training.getRun({ name: run }) });
  const list = useQuery({ queryKey: ["evaluations", run], queryFn: () => clients.evaluation.listEvaluations({ run, pageSize: 20 }) });
  const evaluations = list.data?.evaluations ?? [];
  const chosen = selected || evaluations[0]?.name || "";
  const evaluate = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await clients.evaluation.createEvaluation(
        { evaluation: { run, model, options: { seasonSteps: Number(season) || 0, inferSeason } } },
        { timeoutMs: 600_000 },
      );
      await queryClient.invalidateQueries({ queryKey: ["evaluations", run] });
      navigate("evaluation", lastSegment(run), { evaluation: r.evaluation!.name });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <section className="card" aria-labelledby="evaluate-heading">
        <h2 id="evaluate-heading">Run {runQ.data?.run?.displayName || lastSegment(run)}</h2>
        <form className="form-row" onSubmit={(e) => { e.preventDefault(); evaluate(); }}>
          <Field label="Model" help="Empty: every SUCCEEDED model of the run">
            {(p) => (
              <select {...p} value={model} onChange={(e) => setModel(e.target.value)}>
                <option value="">all models</option>
                {runQ.data?.run?.models.map((m) => <option key={m.name} value={m.name}>{shortModel(m.name)}</option>)}
              </select>
            )}
          </Field>
          <Field label="Season (steps)" path="evaluation.options.season_steps" help="Seasonal-naive baseline and MASE; 0..10000, 0 = inferred or 1">
            {(p) => <input {...p} inputMode="numeric" value={season} placeholder="0" onChange={(e) => setSeason(e.target.value)} />}
          </Field>
          <label className="check"><input type="checkbox" checked={inferSeason} onChange={(e) => setInferSeason(e.target.checked)} /> infer one day</label>
          <button type="submit" disabled={busy}>{busy ? "Evaluating…" : "Evaluate"}</button>
        </form>
        <ErrorNotice error={error} title="Not evaluated" />
        {evaluations.length > 0 && (
          <ul className="list inline" aria-label="Evaluations of this run">
            {evaluations.map((e) => (
              <li key={e.name} className={e.name === chosen ? "selected" : ""}>
                <a href={href("evaluation", lastSegment(run), { evaluation: e.name })} aria-current={e.name === chosen ? "true" : undefined}>
                  {e.model ? shortModel(e.model) : "all models"}, season {e.options?.seasonSteps}
                </a> <StateBadge state={enumName(EvaluationState, e.state)} />
              </li>
            ))}
          </ul>
        )}
      </section>
      {chosen && <EvaluationView key={chosen} name={chosen} />}
    </>
  );
}

function EvaluationView({ name }: { name: string }) {
  const clients = useClients();
  const q = useQuery({ queryKey: ["evaluation", name], queryFn: () => clients.evaluation.getEvaluation({ name }) });
  const [split, setSplit] = useState(DataSplit.TEST);
  const [units, setUnits] = useState(ValueUnits.ORIGINAL);
  const [rankMetric, setRankMetric] = useState(Metric.RMSE);
  const ev = q.data?.evaluation;
  if (q.error) return <ErrorNotice error={q.error} />;
  if (!ev) return <p role="status">Loading evaluation…</p>;
  if (ev.state === EvaluationState.FAILED) return <p role="alert" className="error">The evaluation failed: {ev.failureReason}</p>;
  const overall = ev.overallTables.find((t) => t.split === split && t.units === units);
  return (
    <div data-testid="evaluation" data-evaluation={ev.name}>
      <section className="card" aria-label="Table options">
        <div className="form-row">
          <Field label="Split">
            {(p) => (
              <select {...p} value={split} onChange={(e) => setSplit(Number(e.target.value))}>
                <option value={DataSplit.TEST}>test</option>
                <option value={DataSplit.VALIDATION}>validation</option>
              </select>
            )}
          </Field>
          <Field label="Units">
            {(p) => (
              <select {...p} value={units} onChange={(e) => setUnits(Number(e.target.value))}>
                <option value={ValueUnits.ORIGINAL}>original</option>
                <option value={ValueUnits.SCALED}>scaled</option>
              </select>
            )}
          </Field>
          <Field label="Rank by">
            {(p) => (
              <select {...p} value={rankMetric} onChange={(e) => setRankMetric(Number(e.target.value))}>
                {METRICS.map((m) => <option key={m.metric} value={m.metric}>{m.label}</option>)}
              </select>
            )}
          </Field>
        </div>
      </section>
      <Ranking ev={ev} split={split} units={units} rankMetric={rankMetric} />
      {overall && <OverallTables ev={ev} table={overall} />}
      <SkillTable ev={ev} split={split} units={units} />
      <PerStepChart ev={ev} split={split} units={units} metric={rankMetric} />
      <PredictionsView ev={ev} />
      <ServicePlots ev={ev} />
    </div>
  );
}

function ExportButton({ ev, kind, split, units, rankMetric, label }: {
  ev: Evaluation; kind: MetricTableKind; split: DataSplit; units: ValueUnits; rankMetric?: Metric; label: string;
}) {
  const clients = useClients();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const exportCsv = async () => {
    setBusy(true);
    setError(null);
    try {
      const d = await downloads(() => collectDownload(
        clients.evaluation.exportMetricTable({ name: ev.name, table: { kind, split, units, rankMetric } }),
        undefined, `${lastSegment(ev.name)}-${enumName(MetricTableKind, kind).toLowerCase()}.csv`,
      ));
      saveBlob(d.blob, d.fileName.endsWith(".csv") ? d.fileName : `${lastSegment(ev.name)}-${enumName(MetricTableKind, kind).toLowerCase()}.csv`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="secondary" onClick={exportCsv} disabled={busy}>{busy ? "Exporting…" : `Export ${label} as CSV`}</button>
      <ErrorNotice error={error} title="Export failed" />
    </>
  );
}

function useTable(ev: Evaluation, kind: MetricTableKind, split: DataSplit, units: ValueUnits, rankMetric?: Metric, features?: string[]) {
  const clients = useClients();
  return useQuery({
    queryKey: ["table", ev.name, kind, split, units, rankMetric, features],
    queryFn: async () => {
      const rows: MetricTable["rows"] = [];
      let pageToken = "";
      do {
        const r = await clients.evaluation.readMetricTable({
          name: ev.name, table: { kind, split, units, rankMetric, features }, pageSize: 1000, pageToken,
        });
        rows.push(...(r.table?.rows ?? []));
        pageToken = r.nextPageToken;
      } while (pageToken);
      return rows;
    },
  });
}

function Value({ v }: { v: { value: number | null; reason: string } }) {
  return v.value == null ? <span className="muted" title={v.reason}>undefined</span> : <>{formatNumber(v.value)}</>;
}

function Ranking({ ev, split, units, rankMetric }: { ev: Evaluation; split: DataSplit; units: ValueUnits; rankMetric: Metric }) {
  const q = useTable(ev, MetricTableKind.RANKING, split, units, rankMetric);
  const label = METRICS.find((m) => m.metric === rankMetric)?.label;
  return (
    <section className="card" aria-labelledby="ranking-heading">
      <h2 id="ranking-heading">Ranking by {label}</h2>
      <ErrorNotice error={q.error} />
      <table data-testid="ranking">
        <thead><tr><th scope="col">Rank</th><th scope="col">Model or baseline</th><th scope="col">{label} (mean over features)</th></tr></thead>
        <tbody>
          {q.data?.map((r, i) => (
            <tr key={i} className={r.model ? "" : "baseline"}><td>{r.rank}</td><td>{rowLabel(r)}</td><td><Value v={scoreOf(r, rankMetric)} /></td></tr>
          ))}
        </tbody>
      </table>
      <ExportButton ev={ev} kind={MetricTableKind.RANKING} split={split} units={units} rankMetric={rankMetric} label="ranking" />
    </section>
  );
}

function MetricRows({ rows, caption, extra }: { rows: MetricTable["rows"]; caption: string; extra?: (r: MetricTable["rows"][number]) => string }) {
  return (
    <div className="table-scroll">
      <table aria-label={caption}>
        <thead>
          <tr><th scope="col">Model or baseline</th>{extra && <th scope="col">Against</th>}{METRICS.map((m) => <th scope="col" key={m.metric}>{m.label}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} className={r.model ? "" : "baseline"}>
              <th scope="row">{rowLabel(r)}</th>{extra && <td>{extra(r)}</td>}
              {METRICS.map((m) => <td key={m.metric}><Value v={scoreOf(r, m.metric)} /></td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function OverallTables({ ev, table }: { ev: Evaluation; table: MetricTable }) {
  const byFeature = groupBy(table.rows, (r) => r.feature);
  return (
    <section className="card" aria-labelledby="overall-heading" data-testid="overall">
      <h2 id="overall-heading">Overall, models and baselines</h2>
      <p className="help">Every forecast step of the {enumName(DataSplit, table.split).toLowerCase()} split, {enumName(ValueUnits, table.units).toLowerCase()} units. Lower is better; baselines: naive, seasonal naive (season {ev.options?.seasonSteps}), training mean.</p>
      {[...byFeature.entries()].map(([feature, rows]) => (
        <div key={feature} data-feature={feature}>
          <h3>Feature {feature}</h3>
          <MetricRows rows={rows} caption={`Overall metrics of ${feature}`} />
        </div>
      ))}
      <ExportButton ev={ev} kind={MetricTableKind.OVERALL} split={table.split} units={table.units} label="overall table" />
    </section>
  );
}

function SkillTable({ ev, split, units }: { ev: Evaluation; split: DataSplit; units: ValueUnits }) {
  const q = useTable(ev, MetricTableKind.SKILL, split, units);
  const byFeature = groupBy(q.data ?? [], (r) => r.feature);
  return (
    <section className="card" aria-labelledby="skill-heading">
      <h2 id="skill-heading">Skill against the baselines</h2>
      <p className="help">1 − metric(model) / metric(baseline): above 0 beats the baseline.</p>
      <ErrorNotice error={q.error} />
      {[...byFeature.entries()].map(([feature, rows]) => (
        <div key={feature}>
          <h3>Feature {feature}</h3>
          <MetricRows rows={rows} caption={`Skill of ${feature}`} extra={(r) => baselineLabel(r.baseline)} />
        </div>
      ))}
      <ExportButton ev={ev} kind={MetricTableKind.SKILL} split={split} units={units} label="skill table" />
    </section>
  );
}

function PerStepChart({ ev, split, units, metric }: { ev: Evaluation; split: DataSplit; units: ValueUnits; metric: Metric }) {
  const [feature, setFeature] = useState(ev.features[0] ?? "");
  const q = useTable(ev, MetricTableKind.PER_STEP, split, units, undefined, feature ? [feature] : undefined);
  const label = METRICS.find((m) => m.metric === metric)?.label ?? "";
  const chart = useMemo(() => {
    const rows = (q.data ?? []).filter((r) => r.feature === feature);
    const byRow = groupBy(rows, rowLabel);
    const steps = [...new Set(rows.map((r) => r.step))].sort((a, b) => a - b);
    const names = [...byRow.keys()];
    return {
      x: steps,
      series: names.map((n, i) => ({ label: n, color: PALETTE[i % PALETTE.length], dash: n.startsWith("baseline") ? [4, 4] : undefined, points: true })),
      values: names.map((n) => steps.map((s) => scoreOf(byRow.get(n)!.find((r) => r.step === s)!, metric).value)),
    };
  }, [q.data, feature, metric]);
  return (
    <section className="card" aria-labelledby="perstep-heading">
      <h2 id="perstep-heading">Error per forecast step</h2>
      <FeaturePicker ev={ev} value={feature} onChange={setFeature} />
      <ErrorNotice error={q.error} />
      {chart.x.length > 0 && <LineChart title={`${label} of ${feature} per forecast step`} xLabel="forecast step" yLabel={label} integerX {...chart} />}
      <ExportButton ev={ev} kind={MetricTableKind.PER_STEP} split={split} units={units} label="per-step table" />
    </section>
  );
}

function FeaturePicker({ ev, value, onChange }: { ev: Evaluation; value: string; onChange: (f: string) => void }) {
  return (
    <Field label="Feature">
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.target.value)}>
          {ev.features.map((f) => <option key={f} value={f}>{f}</option>)}
        </select>
      )}
    </Field>
  );
}

async function readPredictions(clients: ReturnType<typeof useClients>, model: string, split: DataSplit): Promise<Predictions> {
  const p: Predictions = { features: [], outputSteps: 0, referenceTimesMs: [], predicted: [], actual: [], stepOffsetsMinutes: [] };
  for await (const m of clients.training.readPredictions({ name: model, split })) {
    const c = m.content;
    if (c.case === "header") {
      p.features = c.value.features.map((f) => f.feature);
      p.outputSteps = c.value.outputSteps;
      p.stepOffsetsMinutes = c.value.features.map((f) => stepOffsetsMinutes(f.horizon?.start ?? 0, f.horizon?.end ?? 0, c.value.outputSteps));
    } else if (c.case === "chunk") {
      for (const t of c.value.referenceTimes) p.referenceTimesMs.push(timestampMs(t)!);
      for (const v of c.value.predicted) p.predicted.push(v);
      for (const v of c.value.actual) p.actual.push(v);
    }
  }
  return p;
}

function toLocalInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

function PredictionsView({ ev }: { ev: Evaluation }) {
  const clients = useClients();
  const [model, setModel] = useState(ev.models[0] ?? "");
  const [feature, setFeature] = useState(0);
  const [step, setStep] = useState(1);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const q = useQuery({
    queryKey: ["predictions", model],
    queryFn: () => downloads(() => readPredictions(clients, model, DataSplit.TEST)),
    enabled: !!model,
    staleTime: Infinity,
  });
  const p = q.data;
  useEffect(() => {
    if (p && p.referenceTimesMs.length && !from) {
      setFrom(toLocalInput(p.referenceTimesMs[0]));
      setTo(toLocalInput(p.referenceTimesMs[p.referenceTimesMs.length - 1] + 86_400_000));
    }
  }, [p, from]);
  const series = useMemo(() => {
    if (!p) return null;
    const fromMs = from ? Date.parse(from + "Z") : -Infinity;
    const toMs = to ? Date.parse(to + "Z") : Infinity;
    return stepSeries(p, feature, Math.min(step, p.outputSteps) - 1, fromMs, toMs);
  }, [p, feature, step, from, to]);
  const hist = useMemo(() => (p ? histogram(residuals(p, feature)) : null), [p, feature]);
  return (
    <section className="card" aria-labelledby="pva-heading" data-testid="predictions">
      <h2 id="pva-heading">Prediction against actual (test split)</h2>
      <div className="form-row">
        <Field label="Model">
          {(pp) => (
            <select {...pp} value={model} onChange={(e) => setModel(e.target.value)}>
              {ev.models.map((m) => <option key={m} value={m}>{shortModel(m)}</option>)}
            </select>
          )}
        </Field>
        <Field label="Feature">
          {(pp) => (
            <select {...pp} value={feature} onChange={(e) => setFeature(Number(e.target.value))}>
              {(p?.features ?? ev.features).map((f, i) => <option key={f} value={i}>{f}</option>)}
            </select>
          )}
        </Field>
        <Field label="Forecast step" help={p ? `1..${p.outputSteps}` : undefined}>
          {(pp) => <input {...pp} type="number" min={1} max={p?.outputSteps ?? 1} value={step} onChange={(e) => setStep(Math.max(1, Number(e.target.value) || 1))} />}
        </Field>
        <Field label="From (UTC)">
          {(pp) => <input {...pp} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />}
        </Field>
        <Field label="To (UTC)">
          {(pp) => <input {...pp} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />}
        </Field>
      </div>
      <ErrorNotice error={q.error} title="Could not read the predictions" />
      {series && (
        <LineChart title={`${p!.features[feature]} at step ${step}: forecast and actual (drag to zoom, double-click to reset)`}
          xLabel="time" yLabel={p!.features[feature]} time x={series.times.map((t) => t / 1000)}
          series={[{ label: "actual", color: "#222" }, { label: `forecast (${shortModel(model)})`, color: PALETTE[0] }]}
          values={[series.actual, series.predicted]} />
      )}
      {hist && hist.centres.length > 0 && (
        <LineChart title={`Residuals (actual − forecast) of ${p!.features[feature]}, every step`} xLabel="residual" yLabel="count"
          x={hist.centres} series={[{ label: "count", color: PALETTE[1], bars: true }]} values={[hist.counts]} height={220} />
      )}
      {p && series && (
        <button type="button" className="secondary" onClick={() => {
          const lines = ["time,actual,forecast", ...series.times.map((t, i) => `${new Date(t).toISOString()},${series.actual[i]},${series.predicted[i]}`)];
          saveBlob(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }), `${shortModel(model)}-${p.features[feature]}-step${step}.csv`);
        }}>Export these points as CSV</button>
      )}
    </section>
  );
}

const PLOTS: { kind: PlotKind; label: string; perFeature: boolean }[] = [
  { kind: PlotKind.PREDICTION_VS_ACTUAL, label: "prediction vs actual", perFeature: true },
  { kind: PlotKind.RESIDUAL_HISTOGRAM, label: "residual histogram", perFeature: true },
  { kind: PlotKind.ERROR_PER_STEP, label: "error per step", perFeature: true },
  { kind: PlotKind.LOSS_CURVES, label: "loss curves", perFeature: false },
  { kind: PlotKind.DATASET_VIOLINS, label: "dataset violins", perFeature: false },
];

function ServicePlots({ ev }: { ev: Evaluation }) {
  const clients = useClients();
  const [kind, setKind] = useState(PlotKind.PREDICTION_VS_ACTUAL);
  const [feature, setFeature] = useState(ev.features[0] ?? "");
  const [image, setImage] = useState<{ url: string; alt: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => () => { if (image) URL.revokeObjectURL(image.url); }, [image]);
  const info = PLOTS.find((p) => p.kind === kind)!;
  const render = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await clients.evaluation.renderPlot({ name: ev.name, kind, feature: info.perFeature ? feature : "", widthPx: 1000, heightPx: 500 }, { timeoutMs: 120_000 });
      setImage({ url: URL.createObjectURL(new Blob([r.data as BlobPart], { type: r.contentType || "image/png" })), alt: `${info.label}${info.perFeature ? ` of ${feature}` : ""}, drawn by the evaluation service` });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="plots-heading">
      <h2 id="plots-heading">Plots from the service (PNG)</h2>
      <form className="form-row" onSubmit={(e) => { e.preventDefault(); render(); }}>
        <Field label="Plot">
          {(p) => (
            <select {...p} value={kind} onChange={(e) => setKind(Number(e.target.value))}>
              {PLOTS.map((pl) => <option key={pl.kind} value={pl.kind}>{pl.label}</option>)}
            </select>
          )}
        </Field>
        {info.perFeature && <FeaturePicker ev={ev} value={feature} onChange={setFeature} />}
        <button type="submit" disabled={busy}>{busy ? "Rendering…" : "Render"}</button>
      </form>
      <ErrorNotice error={error} title="Not rendered" />
      {image && (
        <p>
          <img className="plot" src={image.url} alt={image.alt} />
          <br />
          <a href={image.url} download={`${lastSegment(ev.name)}-${info.label.replace(/ /g, "-")}.png`}>Save PNG</a>
        </p>
      )}
    </section>
  );
}

