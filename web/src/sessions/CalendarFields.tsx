// Calendar features, for the reference time's input steps (`calendar`) or for the output
// steps (`future_calendar`, known in advance): sin + cos of the position in each period,
// a holiday flag, the time zone they are computed in.
import { Field, ProblemsAt } from "../components/common";
import type { FieldProblem } from "../api/errors";
import type { CalendarForm } from "./sessionForm";

export function CalendarFields({ legend, calendar: cal, onChange, path, problems, nameSuffix = "", testId }: {
  legend: string;
  calendar: CalendarForm;
  onChange: (change: Partial<CalendarForm>) => void;
  path: (p: string) => string; // the request path (and records it as shown)
  problems: FieldProblem[];
  nameSuffix?: string; // told to screen readers after each checkbox's name, to tell two calendars apart
  testId?: string;
}) {
  const suffix = nameSuffix ? <span className="visually-hidden"> {nameSuffix}</span> : null;
  return (
    <fieldset data-testid={testId}>
      <legend>{legend}</legend>
      <div className="form-row checks">
        {(["year", "month", "week", "day"] as const).map((k) => (
          <label key={k}><input type="checkbox" checked={cal[k]} onChange={(e) => onChange({ [k]: e.target.checked })} /> {k}{suffix}</label>
        ))}
        <label><input type="checkbox" checked={cal.holiday} onChange={(e) => onChange({ holiday: e.target.checked })} /> public holidays{suffix}</label>
      </div>
      <div className="form-row">
        <Field label="Holiday country" path={path("holiday_country")} problems={problems} help="ISO 3166-1 alpha-2, e.g. AT; needed with holidays">
          {(p) => <input {...p} value={cal.holidayCountry} disabled={!cal.holiday} onChange={(e) => onChange({ holidayCountry: e.target.value })} />}
        </Field>
        <Field label="Subdivision" path={path("holiday_subdivision")} problems={problems} help="Optional, e.g. 9 or BY">
          {(p) => <input {...p} value={cal.holidaySubdivision} disabled={!cal.holiday} onChange={(e) => onChange({ holidaySubdivision: e.target.value })} />}
        </Field>
        <Field label="Time zone" path={path("time_zone")} problems={problems} help="IANA name such as Europe/Vienna; default UTC">
          {(p) => <input {...p} value={cal.timeZone} onChange={(e) => onChange({ timeZone: e.target.value })} />}
        </Field>
      </div>
      <ProblemsAt path={path("holiday")} problems={problems} exact />
    </fieldset>
  );
}
