// Evaluation: evaluate a finished run (queued, then followed live with WatchEvaluation),
// rank its models, compare them with the baselines (overall, per feature, per step,
// skill), look at predictions against actual values and at residuals, export any table
// as CSV, and get the service's PNG plots.
import { useEffect, useMemo, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { describeError, type FieldProblem } from "../api/errors";
import { ErrorNotice, Field, Pager, Progress, StateBadge, usePager } from "../components/common";
import { LineChart, PALETTE } from "../charts/LineChart";
import { DataSplit, ModelType } from "../gen/tsforge/common/v1/common_pb";
import { modelTypeLabel } from "../runs/modelTypes";
import {
  EvaluationState, Metric, MetricTableKind, ValueUnits, type Evaluation, type MetricTable,
} from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import { PlotKind } from "../gen/tsforge/evaluation/v1/evaluation_service_pb";
import { RunState } from "../gen/tsforge/training/v1/training_resources_pb";
import { enumName, formatDuration, formatTime, lastSegment } from "../lib/format";
import { href, navigate, type Route } from "../lib/router";
import {
  baselineList, forecastLabel, groupBy, METRICS, rowBaselineLabel, rowLabel, scoreOf, skillOf,
} from "../evaluation/tables";
import { BaselineSummary } from "../evaluation/BaselineSummary";
import { defaultEvaluateForm, toEvaluationOptions, type EvaluateForm } from "../evaluation/evaluateOptions";
import { IntervalsTable } from "../evaluation/IntervalsTable";
import { PredictionsView } from "../evaluation/PredictionsView";
import { ExportButton, useTable, Value } from "../evaluation/tableParts";
import { shortModel } from "../runs/runEvents";
import { useEvaluationWatch } from "../evaluation/useEvaluationWatch";

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
  const [form, setForm] = useState<EvaluateForm>(defaultEvaluateForm);
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [model, setModel] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const runQ = useQuery({ queryKey: ["run", run], queryFn: () => clients.training.getRun({ name: run }) });
  const list = useQuery({ queryKey: ["evaluations", run], queryFn: () => clients.evaluation.listEvaluations({ run, pageSize: 20 }) });
  const evaluations = list.data?.evaluations ?? [];
  const chosen = selected || evaluations[0]?.name || "";
  const evaluate = async () => {
    setError(null);
    const { options, problems: local } = toEvaluationOptions(form);
    setProblems(local);
    if (local.length) return;
    setBusy(true);
    try {
      // Returns at once: the evaluation is queued (or the stored one of these options).
      const r = await clients.evaluation.createEvaluation({ evaluation: { run, model, options } });
      await queryClient.invalidateQueries({ queryKey: ["evaluations", run] });
      navigate("evaluation", lastSegment(run), { evaluation: r.evaluation!.name });
    } catch (e) {
      setError(e);
      setProblems(describeError(e).fields);
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
          <Field label="More seasons (steps)" path="evaluation.options.seasons" problems={problems}
            help="A seasonal-naive baseline each, e.g. 7, 12; a day (and a week with ≥ 3 weeks of data) are always computed">
            {(p) => <input {...p} inputMode="numeric" value={form.seasons} placeholder="none" onChange={(e) => setForm({ ...form, seasons: e.target.value })} />}
          </Field>
          <Field label="MASE season (steps)" path="evaluation.options.season_steps" problems={problems}
            help="0..4096; empty: the season of the strongest baseline">
            {(p) => <input {...p} inputMode="numeric" value={form.seasonSteps} placeholder="strongest" onChange={(e) => setForm({ ...form, seasonSteps: e.target.value })} />}
          </Field>
          <Field label="Baseline picked by" path="evaluation.options.baseline_metric" problems={problems} help="The strongest baseline on validation by this metric">
            {(p) => (
              <select {...p} value={form.baselineMetric} onChange={(e) => setForm({ ...form, baselineMetric: Number(e.target.value) })}>
                <option value={Metric.UNSPECIFIED}>MAE (default)</option>
                {METRICS.filter((m) => m.metric !== Metric.MASE && m.metric !== Metric.MAE).map((m) => <option key={m.metric} value={m.metric}>{m.label}</option>)}
              </select>
            )}
          </Field>
          <button type="submit" disabled={busy}>{busy ? "Queuing…" : "Evaluate"}</button>
        </form>
        <ErrorNotice error={error} title="Not evaluated" />
        {evaluations.length > 0 && (
          <ul className="list inline" aria-label="Evaluations of this run">
            {evaluations.map((e) => (
              <li key={e.name} className={e.name === chosen ? "selected" : ""}>
                <a href={href("evaluation", lastSegment(run), { evaluation: e.name })} aria-current={e.name === chosen ? "true" : undefined}>
                  {e.model ? shortModel(e.model) : "all models"}{e.options?.seasons.length ? `, seasons ${e.options.seasons.join(", ")}` : ""}{e.options?.seasonSteps ? `, MASE season ${e.options.seasonSteps}` : ""}
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
  const queryClient = useQueryClient();
  const q = useQuery({ queryKey: ["evaluation", name], queryFn: () => clients.evaluation.getEvaluation({ name }) });
  const [split, setSplit] = useState(DataSplit.TEST);
  const [units, setUnits] = useState(ValueUnits.ORIGINAL);
  const [rankMetric, setRankMetric] = useState(Metric.RMSE);
  const ev = q.data?.evaluation;
  if (q.error) return <ErrorNotice error={q.error} />;
  if (!ev) return <p role="status">Loading evaluation…</p>;
  if (ev.state === EvaluationState.QUEUED || ev.state === EvaluationState.COMPUTING) {
    const finished = () => {
      q.refetch();
      queryClient.invalidateQueries({ queryKey: ["evaluations", ev.run] });
    };
    return <Computing ev={ev} onFinished={finished} />;
  }
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
      <BaselineSummary ev={ev} />
      <Ranking ev={ev} split={split} units={units} rankMetric={rankMetric} />
      {overall && <OverallTables ev={ev} table={overall} />}
      <IntervalsTable ev={ev} split={split} units={units} />
      <SkillTable ev={ev} split={split} units={units} />
      <PerStepChart ev={ev} split={split} units={units} metric={rankMetric} />
      <PredictionsView ev={ev} />
      <ServicePlots ev={ev} />
    </div>
  );
}

// A queued or computing evaluation, followed live until it is READY or FAILED.
function Computing({ ev, onFinished }: { ev: Evaluation; onFinished: () => void }) {
  const { view, trouble } = useEvaluationWatch(ev.name, enumName(EvaluationState, ev.state), onFinished);
  const state = view?.state ?? enumName(EvaluationState, ev.state);
  const eta = view?.etaSeconds != null ? `, about ${formatDuration(view.etaSeconds)} left` : "";
  return (
    <section className="card" aria-labelledby="computing-heading" data-testid="evaluation-progress" data-state={state}>
      <h2 id="computing-heading">Evaluating <StateBadge state={state} /></h2>
      <p role="status">
        {state === "QUEUED" ? "Waiting for a worker of the evaluation service." : `${view?.stage || "starting"}${view?.model ? ` (${shortModel(view.model)})` : ""}${eta}`}
      </p>
      {view && view.total > 0 && <Progress label="Evaluation progress" value={view.done} max={view.total} text={`${view.done} of ${view.total}`} />}
      {view?.reason && <p className="muted">{view.reason}</p>}
      {trouble && <p className="muted" role="alert">{trouble}</p>}
    </section>
  );
}

function Ranking({ ev, split, units, rankMetric }: { ev: Evaluation; split: DataSplit; units: ValueUnits; rankMetric: Metric }) {
  const q = useTable(ev, MetricTableKind.RANKING, split, units, rankMetric);
  const label = METRICS.find((m) => m.metric === rankMetric)?.label;
  const reference = forecastLabel(ev.baselineComparison?.bestBaseline);
  return (
    <section className="card" aria-labelledby="ranking-heading">
      <h2 id="ranking-heading">Ranking by {label}</h2>
      <ErrorNotice error={q.error} />
      <div className="table-scroll">
        <table data-testid="ranking">
          <thead>
            <tr>
              <th scope="col">Rank</th><th scope="col">Model or baseline</th><th scope="col">{label} (mean over features)</th>
              <th scope="col">Type</th>{reference && <th scope="col">Skill against {reference}</th>}
            </tr>
          </thead>
          <tbody>
            {q.data?.map((r, i) => {
              const skill = skillOf(r, rankMetric);
              return (
                <tr key={i} className={r.model ? "" : "baseline"}>
                  <td>{r.rank}</td><td>{rowLabel(r)}</td><td><Value v={scoreOf(r, rankMetric)} /></td>
                  <td>{r.model ? modelTypeLabel(enumName(ModelType, r.modelType)) : "baseline"}</td>
                  {reference && <td>{skill ? <Value v={skill} /> : "–"}</td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
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
      <p className="help">Every forecast step of the {enumName(DataSplit, table.split).toLowerCase()} split, {enumName(ValueUnits, table.units).toLowerCase()} units. Lower is better; baselines: {baselineList(ev.baselines)}.</p>
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
          <MetricRows rows={rows} caption={`Skill of ${feature}`} extra={rowBaselineLabel} />
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

