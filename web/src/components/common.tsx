// Small building blocks every page uses: errors in words, field problems beside their
// fields, page-token pagination, a two-step delete.
import { useId, useState, type ReactNode } from "react";
import { describeError, problemsFor, type FieldProblem } from "../api/errors";

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = describeError(error);
  return (
    <div role="alert" className="error-box">
      <strong>{title ?? "The request failed"}</strong>: {e.message || e.code}{" "}
      <span className="code">({e.code}{e.requestId ? `, request ${e.requestId}` : ""})</span>
      {(e.fields.length > 0 || e.details.length > 0) && (
        <ul>
          {e.fields.map((f, i) => (
            <li key={`f${i}`}><code>{f.field}</code>: {f.description}</li>
          ))}
          {e.details.map((d, i) => <li key={`d${i}`}>{d}</li>)}
        </ul>
      )}
    </div>
  );
}

// The problems of one field, rendered under it; `id` ties it to the input's aria-describedby.
export function FieldProblems({ id, problems }: { id: string; problems: FieldProblem[] }) {
  if (!problems.length) return null;
  return (
    <div id={id} role="alert">
      <ul className="field-error">
        {problems.map((p, i) => <li key={i}>{p.description}</li>)}
      </ul>
    </div>
  );
}

interface FieldProps {
  label: string;
  path?: string; // the request field path its violations name
  problems?: FieldProblem[];
  help?: ReactNode;
  children: (props: { id: string; "aria-describedby"?: string; "aria-invalid"?: boolean }) => ReactNode;
  className?: string;
}

// A labelled control with its help text and its violations.
export function Field({ label, path, problems = [], help, children, className }: FieldProps) {
  const id = useId();
  const mine = path ? problemsFor(problems, path) : [];
  const describedBy = [help ? `${id}-help` : "", mine.length ? `${id}-err` : ""].filter(Boolean).join(" ");
  return (
    <div className={`field ${className ?? ""} ${mine.length ? "invalid" : ""}`} data-field={path}>
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-describedby": describedBy || undefined, "aria-invalid": mine.length ? true : undefined })}
      {help && <small id={`${id}-help`} className="help">{help}</small>}
      <FieldProblems id={`${id}-err`} problems={mine} />
    </div>
  );
}

// Page-token pagination: a stack of the tokens of the pages before.
export function usePager() {
  const [tokens, setTokens] = useState<string[]>([""]);
  const token = tokens[tokens.length - 1];
  return {
    token,
    page: tokens.length,
    next: (nextToken: string) => setTokens((t) => [...t, nextToken]),
    previous: () => setTokens((t) => (t.length > 1 ? t.slice(0, -1) : t)),
    reset: () => setTokens([""]),
  };
}

export function Pager({ pager, nextPageToken, label }: { pager: ReturnType<typeof usePager>; nextPageToken?: string; label: string }) {
  if (pager.page === 1 && !nextPageToken) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" className="secondary" onClick={pager.previous} disabled={pager.page === 1}>Previous page</button>
      <span>Page {pager.page}</span>
      <button type="button" className="secondary" onClick={() => nextPageToken && pager.next(nextPageToken)} disabled={!nextPageToken}>
        Next page
      </button>
    </nav>
  );
}

export function ConfirmButton({ label, confirmLabel, onConfirm, disabled }: {
  label: string; confirmLabel: string; onConfirm: () => void; disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return <button type="button" className="danger" disabled={disabled} onClick={() => setAsking(true)}>{label}</button>;
  }
  return (
    <span className="confirm" role="group" aria-label={confirmLabel}>
      <button type="button" className="danger" autoFocus onClick={() => { setAsking(false); onConfirm(); }}>{confirmLabel}</button>
      <button type="button" className="secondary" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}

export function Progress({ label, value, max, text }: { label: string; value: number; max: number; text?: string }) {
  const pct = max > 0 ? Math.min(100, (100 * value) / max) : 0;
  return (
    <div className="progress">
      <progress aria-label={label} value={value} max={max || 1} />
      <span>{text ?? `${pct.toFixed(0)} %`}</span>
    </div>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge state-${state.toLowerCase()}`}>{state}</span>;
}

// Violations of a path that has no single control (e.g. "session.spec.split" for the sum).
export function ProblemsAt({ path, problems, exact }: { path: string; problems: FieldProblem[]; exact?: boolean }) {
  const mine = exact ? problems.filter((p) => p.field === path) : problemsFor(problems, path);
  const id = useId();
  return <FieldProblems id={id} problems={mine} />;
}
