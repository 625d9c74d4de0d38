// "Train automatically": TrainAuto on a session with a time limit. The service chooses
// seasons, lags, calendar features at the output steps and a portfolio of models (seasonal
// naive, linear, LightGBM, MSTL, a small Dense, their ensemble), builds a dataset and
// queues the run; the page then follows that run live like any other.
import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { describeError, unclaimed, type FieldProblem } from "../api/errors";
import { ErrorNotice, Field } from "../components/common";
import { lastSegment } from "../lib/format";
import { navigate } from "../lib/router";
import { planSummary, savePlan, TIME_LIMIT_MINUTES, toTrainAutoRequest } from "./trainAuto";

export function TrainAutoForm({ session }: { session: string }) {
  const clients = useClients();
  const queryClient = useQueryClient();
  const [minutes, setMinutes] = useState(String(TIME_LIMIT_MINUTES.defaultValue));
  const [displayName, setDisplayName] = useState("");
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setError(null);
    const { request, problems: local } = toTrainAutoRequest({ session, timeLimitMinutes: minutes, displayName });
    setProblems(local);
    if (local.length) return;
    setBusy(true);
    try {
      const r = await clients.training.trainAuto(request);
      if (r.plan) savePlan(sessionStorage, planSummary(r.run!.name, r.plan));
      await queryClient.invalidateQueries({ queryKey: ["runs"] });
      await queryClient.invalidateQueries({ queryKey: ["datasets", session] });
      navigate("runs", lastSegment(r.run!.name));
    } catch (e) {
      setError(e);
      setProblems(describeError(e).fields);
    } finally {
      setBusy(false);
    }
  };

  const shown = ["time_limit", "display_name"];
  return (
    <form aria-labelledby="train-auto-heading" noValidate className="card" data-testid="train-auto"
      onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <h2 id="train-auto-heading">Train automatically</h2>
      <p className="help">
        The service looks at the session's files and chooses seasons, seasonal lags, calendar features at the output steps and a
        portfolio of models — seasonal naive, linear regression, LightGBM, MSTL, a small Dense network and their ensemble — within
        the time limit, on a new dataset built from the session (the session itself is not changed). The best model on validation is
        named in the run's summary.
      </p>
      <div className="form-row">
        <Field label="Time limit (minutes)" path="time_limit" problems={problems} help={`1 minute .. 24 h; default ${TIME_LIMIT_MINUTES.defaultValue}`}>
          {(p) => <input {...p} inputMode="decimal" value={minutes} onChange={(e) => setMinutes(e.target.value)} />}
        </Field>
        <Field label="Run name" path="display_name" problems={problems} help="Default auto">
          {(p) => <input {...p} value={displayName} placeholder="auto" onChange={(e) => setDisplayName(e.target.value)} />}
        </Field>
        <button type="submit" disabled={busy || !session}>{busy ? "Starting…" : "Train automatically"}</button>
      </div>
      {!session && <p className="muted">Choose a session above first.</p>}
      <ErrorNotice error={error} title="Automatic training was not started" />
      {unclaimed(problems, shown).length > 0 && (
        <div role="alert"><ul className="field-error">{unclaimed(problems, shown).map((f, i) => <li key={i}><code>{f.field || "session"}</code>: {f.description}</li>)}</ul></div>
      )}
    </form>
  );
}
