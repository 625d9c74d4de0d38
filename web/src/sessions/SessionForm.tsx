// The form for everything CreateSession takes, with the contract's defaults filled in
// and explained, and every BadRequest violation shown beside its field at once.
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { describeError, unclaimed, type FieldProblem } from "../api/errors";
import { ErrorNotice, Field, ProblemsAt } from "../components/common";
import { FeatureRole } from "../gen/tsforge/common/v1/common_pb";
import type { File as TsFile } from "../gen/tsforge/upload/v1/upload_service_pb";
import type { Session } from "../gen/tsforge/training/v1/training_resources_pb";
import { CalendarFields } from "./CalendarFields";
import { LagFields } from "./LagFields";
import { defaultSessionForm, newFeatureRow, toSessionInit, type FeatureRow, type SessionForm } from "./sessionForm";

const SPEC = "session.spec";

export function SessionFormView({ onCreated }: { onCreated: (s: Session) => void }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const [form, setForm] = useState<SessionForm>(defaultSessionForm);
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const files = useQuery({ queryKey: ["files", "all-for-form"], queryFn: () => clients.upload.listFiles({ pageSize: 200 }) });
  const allFiles = files.data?.files ?? [];

  const submit = async () => {
    setError(null);
    const { session, problems: local } = toSessionInit(form);
    if (local.length) {
      setProblems(local);
      return;
    }
    setBusy(true);
    try {
      const r = await clients.training.createSession({ session });
      setProblems([]);
      await queryClient.invalidateQueries({ queryKey: ["sessions"] });
      onCreated(r.session!);
    } catch (e) {
      setError(e);
      setProblems(describeError(e).fields);
    } finally {
      setBusy(false);
    }
  };

  const shown: string[] = [];
  const path = (p: string) => { shown.push(p); return p; };
  const setFeature = (group: "inputs" | "outputs", i: number, change: Partial<FeatureRow>) =>
    setForm((f) => ({ ...f, [group]: f[group].map((r, j) => (j === i ? { ...r, ...change } : r)) }));

  const featureRows = (group: "inputs" | "outputs") => {
    const role = group === "inputs" ? FeatureRole.INPUT : FeatureRole.OUTPUT;
    const candidates = allFiles.filter((f) => f.role === role);
    return (
      <fieldset className="features">
        <legend>{group === "inputs" ? "Inputs (features the model sees)" : "Outputs (what it predicts)"}</legend>
        {form[group].map((row, i) => {
          const base = `${SPEC}.${group}[${i}]`;
          const file = allFiles.find((f) => f.name === row.file);
          return (
            <div className="feature-row" key={i} role="group" aria-label={`${group === "inputs" ? "Input" : "Output"} ${i + 1}`}>
              <Field label="File" path={path(`${base}.file`)} problems={problems}>
                {(p) => (
                  <select {...p} value={row.file} onChange={(e) => setFeature(group, i, { file: e.target.value, column: "" })}>
                    <option value="">choose a file</option>
                    {(candidates.length ? candidates : allFiles).map((f: TsFile) => (
                      <option key={f.name} value={f.name}>{f.displayName} ({f.fileName})</option>
                    ))}
                  </select>
                )}
              </Field>
              <Field label="Column" path={path(`${base}.column`)} problems={problems} help="Empty: the file's only value column.">
                {(p) => (
                  <select {...p} value={row.column} onChange={(e) => setFeature(group, i, { column: e.target.value })}>
                    <option value="">(only column)</option>
                    {file?.profile?.columns.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
                  </select>
                )}
              </Field>
              <Field label="Feature name" path={path(`${base}.feature`)} problems={problems} help="Empty: the column name.">
                {(p) => <input {...p} value={row.feature} onChange={(e) => setFeature(group, i, { feature: e.target.value })} />}
              </Field>
              <Field label="Horizon start (h)" path={path(`${base}.horizon`)} problems={problems}
                help={group === "inputs" ? "Relative to the reference time; default −24..0" : "Default 0..24"}>
                {(p) => <input {...p} inputMode="decimal" value={row.horizonStart} onChange={(e) => setFeature(group, i, { horizonStart: e.target.value })} />}
              </Field>
              <Field label="Horizon end (h)">
                {(p) => <input {...p} inputMode="decimal" value={row.horizonEnd} onChange={(e) => setFeature(group, i, { horizonEnd: e.target.value })} />}
              </Field>
              <Field label="Resampling" path={path(`${base}.resampling`)} problems={problems}>
                {(p) => (
                  <select {...p} value={row.resampling} onChange={(e) => setFeature(group, i, { resampling: e.target.value as FeatureRow["resampling"] })}>
                    <option value="LINEAR">linear interpolation</option>
                    <option value="MEAN">mean over the interval</option>
                    <option value="NEAREST">nearest value</option>
                  </select>
                )}
              </Field>
              <Field label="Scale to min" path={path(`${base}.scaling`)} problems={problems} help="Fitted on the training split only; default 0..1">
                {(p) => <input {...p} inputMode="decimal" value={row.scalingMin} onChange={(e) => setFeature(group, i, { scalingMin: e.target.value })} />}
              </Field>
              <Field label="Scale to max">
                {(p) => <input {...p} inputMode="decimal" value={row.scalingMax} onChange={(e) => setFeature(group, i, { scalingMax: e.target.value })} />}
              </Field>
              {form[group].length > 1 && (
                <button type="button" className="secondary" onClick={() => setForm((f) => ({ ...f, [group]: f[group].filter((_, j) => j !== i) }))}>
                  Remove
                </button>
              )}
            </div>
          );
        })}
        <button type="button" className="secondary" onClick={() => setForm((f) => ({ ...f, [group]: [...f[group], newFeatureRow(group === "inputs" ? "input" : "output")] }))}>
          Add {group === "inputs" ? "an input" : "an output"}
        </button>
      </fieldset>
    );
  };

  const num = (label: string, key: "inputSteps" | "outputSteps" | "stepMinutes" | "offsetMinutes", field: string, help: string) => (
    <Field label={label} path={path(`${SPEC}.window.${field}`)} problems={problems} help={help}>
      {(p) => <input {...p} inputMode="numeric" value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />}
    </Field>
  );
  const split = form.split;
  const setSplit = (change: Partial<SessionForm["split"]>) => setForm({ ...form, split: { ...split, ...change } });

  const body = (
    <form aria-labelledby="new-session-heading" noValidate onSubmit={(e) => { e.preventDefault(); submit(); }} className="card session-form">
      <h2 id="new-session-heading">New session</h2>
      <div className="form-row">
        <Field label="Name" path={path("session.display_name")} problems={problems}>
          {(p) => <input {...p} value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} required />}
        </Field>
        <Field label="Description" path={path("session.description")} problems={problems}>
          {(p) => <input {...p} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />}
        </Field>
      </div>
      {featureRows("inputs")}
      {featureRows("outputs")}
      <fieldset>
        <legend>Window</legend>
        <div className="form-row">
          {num("Input steps (I_N)", "inputSteps", "input_steps", "Points per input feature, 1..4096; default 24")}
          {num("Output steps (O_N)", "outputSteps", "output_steps", "Points per output feature, 1..4096; default 24")}
          {num("Step (minutes, DELT)", "stepMinutes", "step_minutes", "Minutes between reference times, > 0; default 60")}
          {num("Offset (minutes, OFST)", "offsetMinutes", "offset_minutes", "0 ≤ offset < step; default 0")}
        </div>
      </fieldset>
      <CalendarFields legend="Calendar features at the input steps (sin + cos of the position in each period)"
        calendar={form.calendar} onChange={(c) => setForm({ ...form, calendar: { ...form.calendar, ...c } })}
        path={(p) => path(`${SPEC}.calendar.${p}`)} problems={problems} />
      <LagFields lags={form.lags} onChange={(lags) => setForm({ ...form, lags })} files={allFiles} outputs={form.outputs}
        path={(p) => path(`${SPEC}.${p}`)} problems={problems} />
      <ProblemsAt path={path(`${SPEC}.lags`)} problems={problems} exact />
      <CalendarFields legend="Calendar features at the output steps (known in advance)" testId="future-calendar"
        calendar={form.futureCalendar} onChange={(c) => setForm({ ...form, futureCalendar: { ...form.futureCalendar, ...c } })}
        path={(p) => path(`${SPEC}.future_calendar.${p}`)} problems={problems} nameSuffix="at the output steps" />
      <fieldset>
        <legend>Split</legend>
        <div className="form-row">
          <Field label="Train fraction" path={path(`${SPEC}.split.train_fraction`)} problems={problems} help="Default 0.7; the three sum to 1">
            {(p) => <input {...p} inputMode="decimal" value={split.train} onChange={(e) => setSplit({ train: e.target.value })} />}
          </Field>
          <Field label="Validation fraction" path={path(`${SPEC}.split.validation_fraction`)} problems={problems} help="Default 0.2; also calibrates the prediction intervals (95 % needs 19 windows); 0 turns off early stopping and intervals">
            {(p) => <input {...p} inputMode="decimal" value={split.validation} onChange={(e) => setSplit({ validation: e.target.value })} />}
          </Field>
          <Field label="Test fraction" path={path(`${SPEC}.split.test_fraction`)} problems={problems} help="Default 0.1">
            {(p) => <input {...p} inputMode="decimal" value={split.test} onChange={(e) => setSplit({ test: e.target.value })} />}
          </Field>
          <Field label="Method" path={path(`${SPEC}.split.method`)} problems={problems} help="Chronological: earliest samples train">
            {(p) => (
              <select {...p} value={split.method} onChange={(e) => setSplit({ method: e.target.value as "CHRONOLOGICAL" | "SHUFFLED" })}>
                <option value="CHRONOLOGICAL">chronological</option>
                <option value="SHUFFLED">shuffled</option>
              </select>
            )}
          </Field>
          <Field label="Shuffle seed" path={path(`${SPEC}.split.seed`)} problems={problems} help="Used when shuffled">
            {(p) => <input {...p} inputMode="numeric" value={split.seed} disabled={split.method !== "SHUFFLED"} onChange={(e) => setSplit({ seed: e.target.value })} />}
          </Field>
        </div>
        <ProblemsAt path={path(`${SPEC}.split`)} problems={problems} exact />
      </fieldset>
      {error != null && <ErrorNotice error={error} title="The session was not created" />}
      {unclaimed(problems, shown).length > 0 && (
        <div role="alert"><ul className="field-error">{unclaimed(problems, shown).map((f, i) => <li key={i}><code>{f.field}</code>: {f.description}</li>)}</ul></div>
      )}
      <button type="submit" disabled={busy}>{busy ? "Creating…" : "Create session"}</button>
    </form>
  );
  return body;
}
