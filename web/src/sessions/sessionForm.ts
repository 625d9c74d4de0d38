// The session form ⇄ CreateSessionRequest. The form keeps what the user typed (strings)
// so that a bad value can be shown and corrected; toSessionInit turns it into the
// request, with each problem the browser can already see named by the same field path
// the server's BadRequest violations use ("session.spec.window.input_steps").
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ResamplingMethod } from "../gen/tsforge/common/v1/common_pb";
import { type Session, SessionSchema, SplitMethod } from "../gen/tsforge/training/v1/training_resources_pb";
import type { FieldProblem } from "../api/errors";

export type Resampling = "LINEAR" | "MEAN" | "NEAREST";

export interface FeatureRow {
  file: string; // "files/{file}"
  column: string; // empty: the file's only value column
  feature: string; // empty: the column name
  horizonStart: string;
  horizonEnd: string;
  resampling: Resampling;
  scalingMin: string;
  scalingMax: string;
}

// A seasonal lag (LagFeature): the values of a series lagHours before each output step.
export interface LagRow {
  file: string; // empty: the first output's file
  column: string; // empty: the first output's column, or the file's only value column
  feature: string; // empty: "{source}.lag_{hours}h"
  lagHours: string;
  resampling: Resampling | ""; // empty: that of the feature reading the same file and column
  scalingMin: string;
  scalingMax: string;
}

export interface CalendarForm {
  year: boolean; month: boolean; week: boolean; day: boolean; holiday: boolean;
  holidayCountry: string; holidaySubdivision: string; timeZone: string;
}

export interface SessionForm {
  displayName: string;
  description: string;
  inputs: FeatureRow[];
  outputs: FeatureRow[];
  inputSteps: string;
  outputSteps: string;
  stepMinutes: string;
  offsetMinutes: string;
  calendar: CalendarForm;
  lags: LagRow[];
  futureCalendar: CalendarForm; // calendar features at the output steps (known in advance)
  split: { train: string; validation: string; test: string; method: "CHRONOLOGICAL" | "SHUFFLED"; seed: string };
}

// The contract's defaults, shown pre-filled (training_resources.proto).
export const DEFAULT_INPUT_HORIZON = ["-24", "0"] as const;
export const DEFAULT_OUTPUT_HORIZON = ["0", "24"] as const;

export function newFeatureRow(role: "input" | "output", file = ""): FeatureRow {
  const [start, end] = role === "input" ? DEFAULT_INPUT_HORIZON : DEFAULT_OUTPUT_HORIZON;
  return {
    file, column: "", feature: "", horizonStart: start, horizonEnd: end, resampling: "LINEAR",
    scalingMin: "0", scalingMax: "1",
  };
}

export function newLagRow(lagHours = ""): LagRow {
  return { file: "", column: "", feature: "", lagHours, resampling: "", scalingMin: "0", scalingMax: "1" };
}

function defaultCalendar(): CalendarForm {
  return {
    year: false, month: false, week: false, day: false, holiday: false,
    holidayCountry: "", holidaySubdivision: "", timeZone: "UTC",
  };
}

export function defaultSessionForm(): SessionForm {
  return {
    displayName: "",
    description: "",
    inputs: [newFeatureRow("input")],
    outputs: [newFeatureRow("output")],
    inputSteps: "24",
    outputSteps: "24",
    stepMinutes: "60",
    offsetMinutes: "0",
    calendar: defaultCalendar(),
    lags: [],
    futureCalendar: defaultCalendar(),
    split: { train: "0.7", validation: "0.2", test: "0.1", method: "CHRONOLOGICAL", seed: "0" },
  };
}

type SessionInit = MessageInitShape<typeof SessionSchema>;

class Parser {
  problems: FieldProblem[] = [];

  number(text: string, field: string): number {
    const t = text.trim();
    if (t === "") return 0;
    const v = Number(t);
    if (!Number.isFinite(v)) {
      this.problems.push({ field, description: `${JSON.stringify(text)} is not a number` });
      return 0;
    }
    return v;
  }

  integer(text: string, field: string): number {
    const v = this.number(text, field);
    if (!Number.isInteger(v)) {
      this.problems.push({ field, description: `must be a whole number, got ${text}` });
      return Math.trunc(v);
    }
    if (Math.abs(v) > 2 ** 31 - 1) {
      this.problems.push({ field, description: `${text} is out of range` });
      return 0;
    }
    return v;
  }

  bigint(text: string, field: string): bigint {
    const t = text.trim();
    if (t === "") return 0n;
    if (!/^-?\d+$/.test(t)) {
      this.problems.push({ field, description: `must be a whole number, got ${text}` });
      return 0n;
    }
    return BigInt(t);
  }
}

function featureInit(row: FeatureRow, path: string, p: Parser) {
  return {
    file: row.file,
    column: row.column,
    feature: row.feature.trim(),
    horizon: { start: p.number(row.horizonStart, `${path}.horizon`), end: p.number(row.horizonEnd, `${path}.horizon`) },
    resampling: ResamplingMethod[row.resampling],
    scaling: { min: p.number(row.scalingMin, `${path}.scaling`), max: p.number(row.scalingMax, `${path}.scaling`) },
  };
}

function lagInit(row: LagRow, path: string, p: Parser) {
  const lagHours = p.number(row.lagHours, `${path}.lag_hours`);
  if (row.lagHours.trim() === "") p.problems.push({ field: `${path}.lag_hours`, description: "how many hours before each output step" });
  return {
    file: row.file,
    column: row.column,
    feature: row.feature.trim(),
    lagHours,
    resampling: row.resampling ? ResamplingMethod[row.resampling] : ResamplingMethod.UNSPECIFIED,
    scaling: { min: p.number(row.scalingMin, `${path}.scaling`), max: p.number(row.scalingMax, `${path}.scaling`) },
  };
}

function calendarInit(c: CalendarForm) {
  return {
    year: c.year,
    month: c.month,
    week: c.week,
    day: c.day,
    holiday: c.holiday,
    holidayCountry: c.holiday ? c.holidayCountry.trim().toUpperCase() : "",
    holidaySubdivision: c.holiday ? c.holidaySubdivision.trim() : "",
    timeZone: c.timeZone.trim(),
  };
}

// The request body for CreateSession, and the problems found before sending it.
export function toSessionInit(form: SessionForm): { session: SessionInit; problems: FieldProblem[] } {
  const p = new Parser();
  const spec = "session.spec";
  const session: SessionInit = {
    displayName: form.displayName.trim(),
    description: form.description,
    spec: {
      inputs: form.inputs.map((row, i) => featureInit(row, `${spec}.inputs[${i}]`, p)),
      outputs: form.outputs.map((row, i) => featureInit(row, `${spec}.outputs[${i}]`, p)),
      window: {
        inputSteps: p.integer(form.inputSteps, `${spec}.window.input_steps`),
        outputSteps: p.integer(form.outputSteps, `${spec}.window.output_steps`),
        stepMinutes: p.integer(form.stepMinutes, `${spec}.window.step_minutes`),
        offsetMinutes: p.integer(form.offsetMinutes, `${spec}.window.offset_minutes`),
      },
      calendar: calendarInit(form.calendar),
      lags: form.lags.map((row, i) => lagInit(row, `${spec}.lags[${i}]`, p)),
      futureCalendar: calendarInit(form.futureCalendar),
      split: {
        trainFraction: p.number(form.split.train, `${spec}.split.train_fraction`),
        validationFraction: p.number(form.split.validation, `${spec}.split.validation_fraction`),
        testFraction: p.number(form.split.test, `${spec}.split.test_fraction`),
        method: SplitMethod[form.split.method],
        seed: p.bigint(form.split.seed, `${spec}.split.seed`),
      },
    },
  };
  if (!session.displayName) p.problems.push({ field: "session.display_name", description: "a name is required" });
  return { session, problems: p.problems };
}

function calendarForm(c: NonNullable<NonNullable<Session["spec"]>["calendar"]> | undefined): CalendarForm {
  if (!c) return defaultCalendar();
  return {
    year: c.year, month: c.month, week: c.week, day: c.day, holiday: c.holiday,
    holidayCountry: c.holidayCountry, holidaySubdivision: c.holidaySubdivision, timeZone: c.timeZone || "UTC",
  };
}

function resamplingName(v: ResamplingMethod): Resampling {
  return v === ResamplingMethod.MEAN ? "MEAN" : v === ResamplingMethod.NEAREST ? "NEAREST" : "LINEAR";
}

// A session as the form shows it (to start a new session from an existing one).
export function fromSession(session: Session): SessionForm {
  const spec = session.spec;
  const row = (f: NonNullable<typeof spec>["inputs"][number], role: "input" | "output"): FeatureRow => {
    const base = newFeatureRow(role, f.file);
    return {
      ...base,
      column: f.column,
      feature: f.feature,
      horizonStart: f.horizon ? String(f.horizon.start) : base.horizonStart,
      horizonEnd: f.horizon ? String(f.horizon.end) : base.horizonEnd,
      resampling: resamplingName(f.resampling),
      scalingMin: f.scaling ? String(f.scaling.min) : "0",
      scalingMax: f.scaling ? String(f.scaling.max) : "1",
    };
  };
  const d = defaultSessionForm();
  const w = spec?.window;
  const c = spec?.calendar;
  const s = spec?.split;
  return {
    displayName: session.displayName,
    description: session.description,
    inputs: spec?.inputs.map((f) => row(f, "input")) ?? d.inputs,
    outputs: spec?.outputs.map((f) => row(f, "output")) ?? d.outputs,
    inputSteps: w ? String(w.inputSteps) : d.inputSteps,
    outputSteps: w ? String(w.outputSteps) : d.outputSteps,
    stepMinutes: w ? String(w.stepMinutes) : d.stepMinutes,
    offsetMinutes: w ? String(w.offsetMinutes) : d.offsetMinutes,
    calendar: calendarForm(c),
    lags: spec?.lags.map((l) => ({
      file: l.file, column: l.column, feature: l.feature, lagHours: String(l.lagHours),
      resampling: l.resampling === ResamplingMethod.UNSPECIFIED ? "" : resamplingName(l.resampling),
      scalingMin: l.scaling ? String(l.scaling.min) : "0", scalingMax: l.scaling ? String(l.scaling.max) : "1",
    })) ?? [],
    futureCalendar: calendarForm(spec?.futureCalendar),
    split: s
      ? {
          train: String(s.trainFraction), validation: String(s.validationFraction), test: String(s.testFraction),
          method: s.method === SplitMethod.SHUFFLED ? "SHUFFLED" : "CHRONOLOGICAL", seed: String(s.seed),
        }
      : d.split,
  };
}

// The lag of one season (hours) for these outputs: the smallest whole number of seasons
// that reaches past every output horizon's end, so the lag is known at the reference
// time (as the automatic preset chooses it).
export function seasonalLagHours(seasonHours: number, outputs: FeatureRow[]): number {
  const ends = outputs.map((o) => Number(o.horizonEnd)).filter(Number.isFinite);
  const end = Math.max(0, ...ends);
  return seasonHours * Math.max(1, Math.ceil(end / seasonHours - 1e-9));
}
