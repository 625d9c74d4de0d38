// Prediction intervals of the evaluated models: empirical coverage against the nominal
// level, mean width, pinball loss and interval score, over every forecast step of a split
// (the INTERVALS table's step-0 rows).
import type { DataSplit } from "../gen/tsforge/common/v1/common_pb";
import { IntervalMetric, MetricTableKind, type Evaluation, type ValueUnits } from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import { formatNumber } from "../lib/format";
import { formatLevel } from "../runs/intervals";
import { ExportButton, useTable, Value } from "./tableParts";
import { INTERVAL_METRICS, intervalScoreOf, intervalSummaryRows } from "./tables";

export function IntervalsTable({ ev, split, units }: { ev: Evaluation; split: DataSplit; units: ValueUnits }) {
  const q = useTable(ev, MetricTableKind.INTERVALS, split, units);
  const rows = intervalSummaryRows(q.data ?? []);
  return (
    <section className="card" aria-labelledby="intervals-heading" data-testid="interval-table">
      <h2 id="intervals-heading">Prediction intervals</h2>
      <p className="help">Conformal intervals calibrated on the validation split. A calibrated interval covers about its nominal level; narrower is better at the same coverage; pinball loss and interval score are lower-is-better.</p>
      {q.error != null && <p role="alert" className="error">Could not read the intervals table.</p>}
      {q.data && rows.length === 0 && <p>No evaluated model has prediction intervals (a dataset without a validation split gives none).</p>}
      {rows.length > 0 && (
        <div className="table-scroll">
          <table aria-label="Prediction intervals, every forecast step">
            <thead>
              <tr>
                <th scope="col">Model</th><th scope="col">Feature</th><th scope="col">Nominal</th>
                {INTERVAL_METRICS.map((m) => <th scope="col" key={m.metric}>{m.label}</th>)}
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i} data-model={r.model} data-level={r.level}>
                  <th scope="row">{r.model}</th><td>{r.feature}</td><td>{formatLevel(r.level)}</td>
                  {INTERVAL_METRICS.map((m) => (
                    <td key={m.metric} data-metric={m.label}>
                      <Value v={intervalScoreOf(r.row, m.metric)} percent={m.metric === IntervalMetric.COVERAGE} />
                      {m.metric === IntervalMetric.COVERAGE && r.gapPoints != null && (
                        <span className="muted"> ({r.gapPoints >= 0 ? "+" : ""}{formatNumber(r.gapPoints, 2)} pt)</span>
                      )}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ExportButton ev={ev} kind={MetricTableKind.INTERVALS} split={split} units={units} label="intervals table" />
    </section>
  );
}
