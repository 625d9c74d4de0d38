// A new run: the dataset, then one or more models of any type the contract has, each
// with its own options (bounds and defaults from the contract), and every violation
// (the browser's or the service's) beside its field. "Train automatically" (TrainAuto)
// sits beside it for the session chosen.
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { describeError, unclaimed, type FieldProblem } from "../api/errors";
import { ErrorNotice, Field, ProblemsAt } from "../components/common";
import { DatasetState } from "../gen/tsforge/training/v1/training_resources_pb";
import { enumName, formatTime, lastSegment } from "../lib/format";
import { navigate } from "../lib/router";
import {
  ACTIVATIONS, boundPath, boundsOf, effectiveModelId, kindInfo, LIGHTGBM_STRATEGIES, MODEL_KINDS, modelPath, newModelRow,
  paramsPath, suggestModelId, SVR_KERNELS, TIME_LIMIT, toModelSpecs, type ModelKind, type ModelRow,
} from "./modelForm";
import { calibratableLevels, CONFORMAL_LEVELS, formatLevel } from "./intervals";
import { TrainAutoForm } from "./TrainAutoForm";

export function NewRun({ dataset: initialDataset }: { dataset: string }) {
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
  const chosen = datasets.data?.datasets.find((d) => d.name === dataset);
  const setRow = (i: number, change: Partial<ModelRow>) => setRows((all) => all.map((r, j) => (j === i ? { ...r, ...change } : r)));

  const submit = async () => {
    setError(null);
    const { specs, problems: local } = toModelSpecs(rows);
    if (!dataset) local.push({ field: "run.dataset", description: "choose a dataset" });
    setProblems(local);
    if (local.length) return;
    setBusy(true);
    try {
      const r = await clients.training.createRun({ run: { dataset, displayName, modelSpecs: specs } });
      await queryClient.invalidateQueries({ queryKey: ["runs"] });
      navigate("runs", lastSegment(r.run!.name));
    } catch (e) {
      setError(e);
      setProblems(describeError(e).fields);
    } finally {
      setBusy(false);
    }
  };

  const shown = ["run.dataset", "run.display_name", ...rows.map((_, i) => modelPath(i))];
  const validation = chosen && chosen.state === DatasetState.READY ? Number(chosen.validationSampleCount) : null;
  return (
    <div className="grow">
      <form aria-labelledby="new-run-heading" noValidate className="card" onSubmit={(e) => { e.preventDefault(); submit(); }}>
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
          <ModelFields key={i} index={i} row={row} rows={rows} problems={problems} onChange={(c) => setRow(i, c)}
            onRemove={rows.length > 1 ? () => setRows((all) => all.filter((_, j) => j !== i)) : undefined} />
        ))}
        <div className="form-row">
          <Field label="Add a model">
            {(p) => (
              <select {...p} value="" onChange={(e) => {
                const kind = e.target.value as ModelKind;
                if (kind) setRows((all) => [...all, newModelRow(kind, suggestModelId(kind, all))]);
              }}>
                <option value="">choose a type…</option>
                {MODEL_KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.label}</option>)}
              </select>
            )}
          </Field>
        </div>
        <p className="help" data-testid="interval-note">
          Prediction intervals: every model gets conformal intervals at {CONFORMAL_LEVELS.map(formatLevel).join(" and ")}, calibrated on
          the dataset's validation split (set its fraction in the session; 0 gives none).
          {validation != null && ` This dataset has ${validation} validation windows: ${calibratableLevels(validation).map(formatLevel).join(", ") || "no level"}.`}
        </p>
        <ErrorNotice error={error} title="The run was not started" />
        {unclaimed(problems, shown).length > 0 && (
          <div role="alert"><ul className="field-error">{unclaimed(problems, shown).map((f, i) => <li key={i}><code>{f.field}</code>: {f.description}</li>)}</ul></div>
        )}
        <button type="submit" disabled={busy}>{busy ? "Starting…" : "Start run"}</button>
      </form>
      <TrainAutoForm session={session} />
    </div>
  );
}

const FAMILY_HELP: Record<string, string> = {
  lightgbm: "Gradient-boosted trees on the flattened input window and the step's lags and future calendar; early stopping on validation.",
  statistical: "Fitted on the training part of the output series, forecasting from each window's reference time. Needs equal output step widths and step minutes a multiple of them.",
  ensemble: "A weighted average of models listed before it, weights fitted on the validation split.",
};

function ModelFields({ index, row, rows, problems, onChange, onRemove }: {
  index: number; row: ModelRow; rows: ModelRow[]; problems: FieldProblem[]; onChange: (c: Partial<ModelRow>) => void; onRemove?: () => void;
}) {
  const info = kindInfo(row.kind);
  const base = modelPath(index);
  const params = paramsPath(row.kind, index);
  const earlier = rows.slice(0, index).map(effectiveModelId).filter((_, j) => rows[j].kind !== "ensemble");
  const randomised = info.family === "neural" || info.family === "svr" || info.family === "lightgbm";
  return (
    <fieldset className="model" data-model-index={index} data-model-kind={row.kind}>
      <legend>Model {index + 1}: {info.label}</legend>
      {FAMILY_HELP[info.family] && <p className="help">{FAMILY_HELP[info.family]}</p>}
      <div className="form-row">
        <Field label="Model id" path={`${base}.model_id`} problems={problems} help={`Empty: model-${index + 1}`}>
          {(p) => <input {...p} value={row.modelId} data-param="model_id" onChange={(e) => onChange({ modelId: e.target.value })} />}
        </Field>
        {randomised && (
          <Field label="Seed" path={`${base}.seed`} problems={problems}>
            {(p) => <input {...p} inputMode="numeric" value={row.seed} onChange={(e) => onChange({ seed: e.target.value })} />}
          </Field>
        )}
        {boundsOf(row.kind).map((b) => (
          <Field key={b.field} label={b.label} path={boundPath(row.kind, index, b)} problems={problems} help={`${b.help}; default ${b.defaultText}`}>
            {(p) => (
              <input {...p} inputMode="decimal" placeholder={b.defaultText} value={row.values[b.field] ?? ""}
                data-param={b.field} onChange={(e) => onChange({ values: { ...row.values, [b.field]: e.target.value } })} />
            )}
          </Field>
        ))}
        {info.family === "statistical" && (
          <Field label="Seasons (hours)" path={`${params}.season_hours`} problems={problems}
            help={info.oneSeason ? "One season, a whole number of output steps; empty: a day" : "Comma-separated, each a whole number of output steps; empty: a day, plus a week with ≥ 3 weeks of training data"}>
            {(p) => <input {...p} inputMode="decimal" placeholder={info.oneSeason ? "24" : "24, 168"} value={row.seasonHours} data-param="season_hours" onChange={(e) => onChange({ seasonHours: e.target.value })} />}
          </Field>
        )}
        {info.family === "neural" && (
          <Field label="Activation" path={`${params}.neural.activation`} problems={problems} help="Default relu">
            {(p) => (
              <select {...p} value={row.activation} onChange={(e) => onChange({ activation: e.target.value as ModelRow["activation"] })}>
                {ACTIVATIONS.map((a) => <option key={a} value={a}>{a.toLowerCase()}</option>)}
              </select>
            )}
          </Field>
        )}
        {info.family === "svr" && (
          <Field label="Kernel" path={`${params}.kernel`} problems={problems} help="Default poly">
            {(p) => (
              <select {...p} value={row.svrKernel} onChange={(e) => onChange({ svrKernel: e.target.value as ModelRow["svrKernel"] })}>
                {SVR_KERNELS.map((k) => <option key={k} value={k}>{k.toLowerCase()}</option>)}
              </select>
            )}
          </Field>
        )}
        {info.family === "lightgbm" && (
          <Field label="Strategy" path={`${params}.strategy`} problems={problems} help="Default direct">
            {(p) => (
              <select {...p} value={row.lightgbmStrategy} onChange={(e) => onChange({ lightgbmStrategy: e.target.value as ModelRow["lightgbmStrategy"] })}>
                {LIGHTGBM_STRATEGIES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
              </select>
            )}
          </Field>
        )}
        {info.family !== "ensemble" && (
          <Field label={TIME_LIMIT.label} path={`${base}.time_limit`} problems={problems} help={`${TIME_LIMIT.help}; default ${TIME_LIMIT.defaultText}`}>
            {(p) => <input {...p} inputMode="decimal" placeholder="none" value={row.timeLimit} data-param="time_limit" onChange={(e) => onChange({ timeLimit: e.target.value })} />}
          </Field>
        )}
        {onRemove && <button type="button" className="secondary" onClick={onRemove}>Remove model {index + 1}</button>}
      </div>
      {info.family === "ensemble" && (
        <fieldset className="checks" aria-describedby={`members-help-${index}`}>
          <legend>Members</legend>
          <small id={`members-help-${index}`} className="help">None ticked: every model above. Members that do not succeed are left out.</small>
          <div className="form-row checks">
            {earlier.map((id) => (
              <label key={id}>
                <input type="checkbox" checked={row.members.includes(id)}
                  onChange={(e) => onChange({ members: e.target.checked ? [...row.members, id] : row.members.filter((m) => m !== id) })} /> {id}
              </label>
            ))}
            {!earlier.length && <span className="muted">No model above this one yet.</span>}
          </div>
          <ProblemsAt path={`${params}.members`} problems={problems} />
        </fieldset>
      )}
    </fieldset>
  );
}
