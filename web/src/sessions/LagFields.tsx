// Seasonal lags (DatasetSpec.lags): the values of a series one or more seasons before
// each output step, given to every model as a second window beside the inputs — a day
// and a week back without an input window of 168 steps.
import { Field } from "../components/common";
import type { FieldProblem } from "../api/errors";
import type { File as TsFile } from "../gen/tsforge/upload/v1/upload_service_pb";
import { newLagRow, seasonalLagHours, type FeatureRow, type LagRow } from "./sessionForm";

export function LagFields({ lags, onChange, files, outputs, path, problems }: {
  lags: LagRow[];
  onChange: (lags: LagRow[]) => void;
  files: TsFile[];
  outputs: FeatureRow[];
  path: (p: string) => string;
  problems: FieldProblem[];
}) {
  const set = (i: number, change: Partial<LagRow>) => onChange(lags.map((r, j) => (j === i ? { ...r, ...change } : r)));
  const firstOutput = files.find((f) => f.name === outputs[0]?.file);
  const add = (hours: string) => onChange([...lags, newLagRow(hours)]);
  return (
    <fieldset className="features" data-testid="lags">
      <legend>Seasonal lags (values a season before each output step)</legend>
      <p className="help">
        Each lag gives every model the series' values that long before each output step, e.g. the same hour a day and a week
        earlier. A lag must be at least the end of every output horizon (it has to be known at the reference time).
      </p>
      {lags.map((row, i) => {
        const base = `lags[${i}]`;
        const file = files.find((f) => f.name === row.file) ?? (row.file ? undefined : firstOutput);
        return (
          <div className="feature-row" key={i} role="group" aria-label={`Lag ${i + 1}`}>
            <Field label="Lag (hours)" path={path(`${base}.lag_hours`)} problems={problems} help="> 0, at most a year">
              {(p) => <input {...p} inputMode="decimal" value={row.lagHours} onChange={(e) => set(i, { lagHours: e.target.value })} />}
            </Field>
            <Field label="File" path={path(`${base}.file`)} problems={problems} help="Default: the first output's file">
              {(p) => (
                <select {...p} value={row.file} onChange={(e) => set(i, { file: e.target.value, column: "" })}>
                  <option value="">(first output's file)</option>
                  {files.map((f) => <option key={f.name} value={f.name}>{f.displayName} ({f.fileName})</option>)}
                </select>
              )}
            </Field>
            <Field label="Column" path={path(`${base}.column`)} problems={problems} help="Default: the first output's column, or the only one">
              {(p) => (
                <select {...p} value={row.column} onChange={(e) => set(i, { column: e.target.value })}>
                  <option value="">(default column)</option>
                  {file?.profile?.columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
                </select>
              )}
            </Field>
            <Field label="Feature name" path={path(`${base}.feature`)} problems={problems} help="Empty: e.g. load.lag_24h">
              {(p) => <input {...p} value={row.feature} onChange={(e) => set(i, { feature: e.target.value })} />}
            </Field>
            <Field label="Resampling" path={path(`${base}.resampling`)} problems={problems} help="Default: as the feature reading the same column">
              {(p) => (
                <select {...p} value={row.resampling} onChange={(e) => set(i, { resampling: e.target.value as LagRow["resampling"] })}>
                  <option value="">(as that feature)</option>
                  <option value="LINEAR">linear interpolation</option>
                  <option value="MEAN">mean over the interval</option>
                  <option value="NEAREST">nearest value</option>
                </select>
              )}
            </Field>
            <Field label="Scale to min" path={path(`${base}.scaling`)} problems={problems} help="Default 0..1">
              {(p) => <input {...p} inputMode="decimal" value={row.scalingMin} onChange={(e) => set(i, { scalingMin: e.target.value })} />}
            </Field>
            <Field label="Scale to max">
              {(p) => <input {...p} inputMode="decimal" value={row.scalingMax} onChange={(e) => set(i, { scalingMax: e.target.value })} />}
            </Field>
            <button type="button" className="secondary" onClick={() => onChange(lags.filter((_, j) => j !== i))}>Remove lag {i + 1}</button>
          </div>
        );
      })}
      <div className="actions">
        <button type="button" className="secondary" onClick={() => add(String(seasonalLagHours(24, outputs)))}>Add a lag of a day</button>
        <button type="button" className="secondary" onClick={() => add(String(seasonalLagHours(168, outputs)))}>Add a lag of a week</button>
        <button type="button" className="secondary" onClick={() => add("")}>Add a lag</button>
      </div>
    </fieldset>
  );
}
