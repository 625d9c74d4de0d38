// Predictions of one model against the actual values over time (one feature, one
// forecast step, a time range, zoomable), with the model's prediction-interval bounds, the
// residual histogram, and the points as CSV.
import { useEffect, useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { ErrorNotice, Field } from "../components/common";
import { LineChart, PALETTE } from "../charts/LineChart";
import { DataSplit } from "../gen/tsforge/common/v1/common_pb";
import type { Evaluation } from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import { saveBlob } from "../lib/download";
import { timestampMs } from "../lib/format";
import { downloads } from "../lib/limit";
import { formatLevel } from "../runs/intervals";
import { shortModel } from "../runs/runEvents";
import { histogram, intervalSeries, residuals, stepOffsetsMinutes, stepSeries, type Predictions } from "./tables";

async function readPredictions(clients: ReturnType<typeof useClients>, model: string, split: DataSplit): Promise<Predictions> {
  const p: Predictions = {
    features: [], outputSteps: 0, referenceTimesMs: [], predicted: [], actual: [], stepOffsetsMinutes: [],
    intervalLevels: [], lower: [], upper: [],
  };
  for await (const m of clients.training.readPredictions({ name: model, split })) {
    const c = m.content;
    if (c.case === "header") {
      p.features = c.value.features.map((f) => f.feature);
      p.outputSteps = c.value.outputSteps;
      p.stepOffsetsMinutes = c.value.features.map((f) => stepOffsetsMinutes(f.horizon?.start ?? 0, f.horizon?.end ?? 0, c.value.outputSteps));
      p.intervalLevels = [...c.value.intervalLevels];
    } else if (c.case === "chunk") {
      for (const t of c.value.referenceTimes) p.referenceTimesMs.push(timestampMs(t)!);
      for (const v of c.value.predicted) p.predicted.push(v);
      for (const v of c.value.actual) p.actual.push(v);
      for (const v of c.value.lower) p.lower!.push(v);
      for (const v of c.value.upper) p.upper!.push(v);
    }
  }
  return p;
}

function toLocalInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

export function PredictionsView({ ev }: { ev: Evaluation }) {
  const clients = useClients();
  const [model, setModel] = useState(ev.models[0] ?? "");
  const [feature, setFeature] = useState(0);
  const [step, setStep] = useState(1);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [level, setLevel] = useState(0); // index into the model's interval levels; -1: none
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
    const s = Math.min(step, p.outputSteps) - 1;
    return { ...stepSeries(p, feature, s, fromMs, toMs), band: intervalSeries(p, feature, s, level, fromMs, toMs) };
  }, [p, feature, step, from, to, level]);
  const levels = p?.intervalLevels ?? [];
  const bandLabel = series?.band ? `${formatLevel(levels[level])} interval` : "";
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
        {levels.length > 0 && (
          <Field label="Prediction interval">
            {(pp) => (
              <select {...pp} value={level} onChange={(e) => setLevel(Number(e.target.value))}>
                {levels.map((l, i) => <option key={l} value={i}>{formatLevel(l)}</option>)}
                <option value={-1}>none</option>
              </select>
            )}
          </Field>
        )}
      </div>
      <ErrorNotice error={q.error} title="Could not read the predictions" />
      {series && (
        <LineChart title={`${p!.features[feature]} at step ${step}: forecast and actual (drag to zoom, double-click to reset)`}
          xLabel="time" yLabel={p!.features[feature]} time x={series.times.map((t) => t / 1000)}
          series={[
            { label: "actual", color: "#222" }, { label: `forecast (${shortModel(model)})`, color: PALETTE[0] },
            ...(series.band ? [{ label: `${bandLabel}, lower`, color: PALETTE[2], dash: [4, 4] }, { label: `${bandLabel}, upper`, color: PALETTE[2], dash: [4, 4] }] : []),
          ]}
          values={[series.actual, series.predicted, ...(series.band ? [series.band.lower, series.band.upper] : [])]} />
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
