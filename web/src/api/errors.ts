// Server errors in words. The services use the gRPC rich error model: BadRequest field
// violations for bad input, PreconditionFailure for wrong state, QuotaFailure for quotas.
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  PreconditionFailureSchema,
  QuotaFailureSchema,
} from "../gen/google/rpc/error_details_pb";

export interface FieldProblem {
  field: string; // the request's field path, e.g. "session.spec.window.input_steps"
  description: string;
}

export interface DescribedError {
  code: string; // e.g. "INVALID_ARGUMENT"
  message: string;
  fields: FieldProblem[];
  details: string[]; // precondition and quota problems, in words
  requestId?: string;
}

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Code)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [v as number, k.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()]),
);

export function describeError(error: unknown): DescribedError {
  const e = ConnectError.from(error);
  const fields: FieldProblem[] = [];
  const details: string[] = [];
  for (const bad of e.findDetails(BadRequestSchema)) {
    for (const v of bad.fieldViolations) fields.push({ field: v.field, description: v.description });
  }
  for (const pre of e.findDetails(PreconditionFailureSchema)) {
    for (const v of pre.violations) details.push([v.subject, v.description].filter(Boolean).join(": "));
  }
  for (const quota of e.findDetails(QuotaFailureSchema)) {
    for (const v of quota.violations) details.push([v.subject, v.description].filter(Boolean).join(": "));
  }
  const requestId = e.metadata.get("x-request-id") ?? undefined;
  return { code: CODE_NAMES[e.code] ?? String(e.code), message: e.rawMessage, fields, details, requestId };
}

// The violations of one field and of everything below it ("a.b" covers "a.b.c" and "a.b[0]").
export function problemsFor(fields: FieldProblem[], path: string): FieldProblem[] {
  return fields.filter(
    (f) => f.field === path || f.field.startsWith(path + ".") || f.field.startsWith(path + "["),
  );
}

// Violations that no shown field claims, so they are listed rather than lost.
export function unclaimed(fields: FieldProblem[], shown: string[]): FieldProblem[] {
  return fields.filter((f) => !shown.some((path) => problemsFor([f], path).length > 0));
}
