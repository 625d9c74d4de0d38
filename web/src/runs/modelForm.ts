// Model choices ⇄ ModelSpec, with the bounds and defaults the contract states
// (training_resources.proto: NeuralParams, CnnParams, SvrParams, LightGbmParams,
// StatisticalParams, EnsembleParams, ModelSpec.time_limit). An empty field means the
// contract's default (the zero value, or an unset optional); the bounds are checked
// before sending and again by the service, whose violations name
// "run.model_specs[i]..." — the same paths the form puts its own problems at.
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  Activation, LightGbmStrategy, ModelSpecSchema, SvrKernel,
} from "../gen/tsforge/training/v1/training_resources_pb";
import type { FieldProblem } from "../api/errors";
import type { ModelFamily } from "./modelTypes";

export type ModelKind =
  | "dense" | "cnn" | "lstm" | "arLstm" | "svrDirect" | "svrMimo" | "linearRegression"
  | "lightgbm" | "mstl" | "autoEts" | "autoArima" | "seasonalNaive" | "ensemble";

export interface ModelKindInfo {
  kind: ModelKind; // the ModelSpec.params oneof case
  label: string;
  family: ModelFamily;
  suggestedId: string;
  oneSeason?: boolean; // statistical models that take a single season
}

export const MODEL_KINDS: ModelKindInfo[] = [
  { kind: "dense", label: "Dense", family: "neural", suggestedId: "dense" },
  { kind: "cnn", label: "CNN", family: "neural", suggestedId: "cnn" },
  { kind: "lstm", label: "LSTM", family: "neural", suggestedId: "lstm" },
  { kind: "arLstm", label: "Autoregressive LSTM", family: "neural", suggestedId: "ar-lstm" },
  { kind: "svrDirect", label: "SVR (direct)", family: "svr", suggestedId: "svr-direct" },
  { kind: "svrMimo", label: "SVR (MIMO)", family: "svr", suggestedId: "svr-mimo" },
  { kind: "linearRegression", label: "Linear regression", family: "linear", suggestedId: "linear" },
  { kind: "lightgbm", label: "LightGBM", family: "lightgbm", suggestedId: "lightgbm" },
  { kind: "mstl", label: "MSTL (statsforecast)", family: "statistical", suggestedId: "mstl" },
  { kind: "autoEts", label: "AutoETS (statsforecast)", family: "statistical", suggestedId: "auto-ets", oneSeason: true },
  { kind: "autoArima", label: "AutoARIMA (statsforecast)", family: "statistical", suggestedId: "auto-arima", oneSeason: true },
  { kind: "seasonalNaive", label: "Seasonal naive (statsforecast)", family: "statistical", suggestedId: "seasonal-naive", oneSeason: true },
  { kind: "ensemble", label: "Ensemble of the models above", family: "ensemble", suggestedId: "ensemble" },
];

export function kindInfo(kind: ModelKind): ModelKindInfo {
  return MODEL_KINDS.find((k) => k.kind === kind)!;
}

export interface Bound {
  field: string; // proto field name under the params message (or under its `neural`)
  label: string;
  min: number;
  max: number;
  minExclusive?: boolean;
  integer: boolean;
  defaultText: string; // what an empty field means, as the contract says
  help: string;
  neural?: boolean; // lies under params.neural
  optional?: boolean; // a proto3 optional: empty is unset, 0 is a value
}

const RECURRENT: ModelKind[] = ["lstm", "arLstm"];

export function neuralBounds(kind: ModelKind): Bound[] {
  const recurrent = RECURRENT.includes(kind);
  return [
    { field: "layers", label: "Hidden layers", min: 1, max: 16, integer: true, defaultText: recurrent ? "1" : "2", help: "1..16", neural: true },
    { field: "units", label: "Units per layer", min: 1, max: 4096, integer: true, defaultText: recurrent ? "32" : "64", help: "1..4096 (filters for CNN)", neural: true },
    { field: "epochs", label: "Epochs", min: 1, max: 2000, integer: true, defaultText: "20", help: "1..2000", neural: true },
    { field: "batch_size", label: "Batch size", min: 1, max: 65536, integer: true, defaultText: "32", help: "1..65536", neural: true },
    { field: "learning_rate", label: "Learning rate", min: 0, max: 1, minExclusive: true, integer: false, defaultText: "0.001", help: "Adam, > 0 and ≤ 1", neural: true },
    { field: "early_stopping_patience", label: "Early-stopping patience", min: 0, max: 2000, integer: true, defaultText: "2", help: "epochs without val_loss improvement, 0..2000", neural: true, optional: true },
  ];
}

export const CNN_KERNEL: Bound = {
  field: "kernel_size", label: "Kernel size", min: 1, max: 4096, integer: true, defaultText: "3", help: "1..input steps",
};

export const SVR_BOUNDS: Bound[] = [
  { field: "c", label: "C", min: 0, max: Number.MAX_VALUE, minExclusive: true, integer: false, defaultText: "1", help: "regularization, > 0" },
  { field: "epsilon", label: "Epsilon", min: 0, max: Number.MAX_VALUE, integer: false, defaultText: "0.1", help: "tube width in standard deviations of the target, ≥ 0", optional: true },
];

export const LIGHTGBM_BOUNDS: Bound[] = [
  { field: "n_estimators", label: "Boosting rounds", min: 1, max: 10000, integer: true, defaultText: "100", help: "at most, 1..10000" },
  { field: "learning_rate", label: "Learning rate", min: 0, max: 1, minExclusive: true, integer: false, defaultText: "0.1", help: "shrinkage, > 0 and ≤ 1" },
  { field: "num_leaves", label: "Leaves per tree", min: 2, max: 4096, integer: true, defaultText: "31", help: "2..4096" },
  { field: "min_child_samples", label: "Min samples per leaf", min: 1, max: 100000, integer: true, defaultText: "20", help: "1..100000" },
  { field: "early_stopping_rounds", label: "Early-stopping rounds", min: 0, max: 10000, integer: true, defaultText: "10", help: "rounds without validation improvement, 0..10000, 0 = off", optional: true },
];

export function statisticalBounds(kind: ModelKind): Bound[] {
  return [
    { field: "history_steps", label: "History steps", min: 2, max: 100000, integer: true, defaultText: "4 × longest season (≥ 48)", help: "values each forecast starts from, 2..100000" },
    { field: "fit_steps", label: "Fit steps", min: 2, max: 1000000, integer: true, defaultText: kind === "autoArima" ? "2000" : "all", help: "values the parameters are fitted on at most, 2..1000000" },
  ];
}

export const TIME_LIMIT: Bound = {
  field: "time_limit", label: "Time budget (s)", min: 1, max: 86400, integer: false, defaultText: "none",
  help: "1 s .. 24 h; a fit stops there with its best so far, a model not started by then is skipped",
};

export const MAX_SEASON_HOURS = 24 * 366;

export const ACTIVATIONS = ["RELU", "SIGMOID", "TANH", "SOFTMAX", "LINEAR", "ELU", "SELU", "SOFTPLUS", "SOFTSIGN", "SWISH", "GELU"] as const;
export const SVR_KERNELS = ["POLY", "LINEAR", "RBF", "SIGMOID"] as const;
export const LIGHTGBM_STRATEGIES = [
  { value: "DIRECT", label: "direct: one booster per output feature and step" },
  { value: "STEP_FEATURE", label: "one booster per feature, the step as a feature" },
] as const;

export interface ModelRow {
  kind: ModelKind;
  modelId: string;
  displayName: string;
  seed: string;
  timeLimit: string; // seconds; empty means no budget
  values: Record<string, string>; // by Bound.field; empty means the default
  activation: (typeof ACTIVATIONS)[number];
  svrKernel: (typeof SVR_KERNELS)[number];
  lightgbmStrategy: (typeof LIGHTGBM_STRATEGIES)[number]["value"];
  seasonHours: string; // statistical: "24, 168"; empty means the contract's choice
  members: string[]; // ensemble: model ids of earlier rows; empty means all of them
}

export function newModelRow(kind: ModelKind, modelId = ""): ModelRow {
  return {
    kind, modelId, displayName: "", seed: "0", timeLimit: "", values: {}, activation: "RELU", svrKernel: "POLY",
    lightgbmStrategy: "DIRECT", seasonHours: kind === "seasonalNaive" ? "24" : "", members: [],
  };
}

// The id the service gives a row left empty ("model-{i}", 1-based).
export function effectiveModelId(row: ModelRow, index: number): string {
  return row.modelId.trim() || `model-${index + 1}`;
}

// An id for a new row of this kind that the rows do not use yet ("lightgbm", "lightgbm-2").
export function suggestModelId(kind: ModelKind, rows: ModelRow[]): string {
  const taken = new Set(rows.map(effectiveModelId));
  const base = kindInfo(kind).suggestedId;
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

export function boundsOf(kind: ModelKind): Bound[] {
  switch (kindInfo(kind).family) {
    case "neural": return kind === "cnn" ? [...neuralBounds(kind), CNN_KERNEL] : neuralBounds(kind);
    case "svr": return SVR_BOUNDS;
    case "lightgbm": return LIGHTGBM_BOUNDS;
    case "statistical": return statisticalBounds(kind);
    default: return [];
  }
}

export function snake(kind: ModelKind): string {
  return kind.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

// Field paths as the service's violations name them.
export const modelPath = (i: number) => `run.model_specs[${i}]`;
export const paramsPath = (kind: ModelKind, i: number) => `${modelPath(i)}.${snake(kind)}`;
export function boundPath(kind: ModelKind, i: number, b: Bound): string {
  return `${paramsPath(kind, i)}${b.neural ? ".neural" : ""}.${b.field}`;
}

function checkBound(b: Bound, text: string, path: string, problems: FieldProblem[]): number | undefined {
  const t = (text ?? "").trim();
  if (t === "") return undefined;
  const v = Number(t);
  const low = b.minExclusive ? v <= b.min : v < b.min;
  if (!Number.isFinite(v) || low || v > b.max || (b.integer && !Number.isInteger(v))) {
    problems.push({ field: path, description: `${b.label.toLowerCase()}: ${b.help}, got ${text}` });
    return undefined;
  }
  return v;
}

// "24, 168" → [24, 168], with what is wrong in it.
export function parseSeasons(text: string, path: string, oneSeason: boolean, problems: FieldProblem[]): number[] {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const seasons: number[] = [];
  parts.forEach((part, i) => {
    const v = Number(part);
    if (!Number.isFinite(v) || v <= 0 || v > MAX_SEASON_HOURS) {
      problems.push({ field: `${path}[${i}]`, description: `a season must be > 0 and at most a year of hours, got ${part}` });
    } else {
      seasons.push(v);
    }
  });
  if (oneSeason && parts.length > 1) problems.push({ field: path, description: `takes one season, got ${parts.length}` });
  return seasons;
}

type ModelSpecInit = MessageInitShape<typeof ModelSpecSchema>;

function durationOf(seconds: number) {
  const whole = Math.floor(seconds);
  return { seconds: BigInt(whole), nanos: Math.round((seconds - whole) * 1e9) };
}

// The ModelSpec of a row at position i of the run, and what is wrong with it. `earlier`
// are the ids of the rows before it (the models an ensemble may average).
export function toModelSpec(row: ModelRow, i: number, earlier: string[] = []): { spec: ModelSpecInit; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const base = modelPath(i);
  const params = paramsPath(row.kind, i);
  const seedText = row.seed.trim();
  if (seedText && !/^-?\d+$/.test(seedText)) problems.push({ field: `${base}.seed`, description: "must be a whole number" });
  const modelId = row.modelId.trim();
  if (modelId && !/^[a-z][a-z0-9-]{0,62}$/.test(modelId)) {
    problems.push({ field: `${base}.model_id`, description: "lower-case letters, digits and -, starting with a letter" });
  }
  const get = (b: Bound) => checkBound(b, row.values[b.field] ?? "", boundPath(row.kind, i, b), problems);
  const byField = (bounds: Bound[]) => (field: string) => get(bounds.find((b) => b.field === field)!);
  const timeLimit = checkBound(TIME_LIMIT, row.timeLimit, `${base}.time_limit`, problems);
  const spec: ModelSpecInit = {
    modelId,
    displayName: row.displayName,
    seed: /^-?\d+$/.test(seedText) ? BigInt(seedText) : 0n,
    timeLimit: timeLimit === undefined ? undefined : durationOf(timeLimit),
  };
  const info = kindInfo(row.kind);
  switch (info.family) {
    case "neural": {
      const v = byField(neuralBounds(row.kind));
      const neural = {
        layers: v("layers") ?? 0,
        units: v("units") ?? 0,
        epochs: v("epochs") ?? 0,
        batchSize: v("batch_size") ?? 0,
        learningRate: v("learning_rate") ?? 0,
        activation: Activation[row.activation],
        earlyStoppingPatience: v("early_stopping_patience"),
      };
      if (row.kind === "cnn") spec.params = { case: "cnn", value: { neural, kernelSize: get(CNN_KERNEL) ?? 0 } };
      else spec.params = { case: row.kind as "dense" | "lstm" | "arLstm", value: { neural } };
      break;
    }
    case "svr": {
      const v = byField(SVR_BOUNDS);
      spec.params = { case: row.kind as "svrDirect" | "svrMimo", value: { kernel: SvrKernel[row.svrKernel], c: v("c") ?? 0, epsilon: v("epsilon") } };
      break;
    }
    case "lightgbm": {
      const v = byField(LIGHTGBM_BOUNDS);
      spec.params = {
        case: "lightgbm",
        value: {
          nEstimators: v("n_estimators") ?? 0,
          learningRate: v("learning_rate") ?? 0,
          numLeaves: v("num_leaves") ?? 0,
          minChildSamples: v("min_child_samples") ?? 0,
          earlyStoppingRounds: v("early_stopping_rounds"),
          strategy: LightGbmStrategy[row.lightgbmStrategy],
        },
      };
      break;
    }
    case "statistical": {
      const v = byField(statisticalBounds(row.kind));
      const value = {
        seasonHours: parseSeasons(row.seasonHours, `${params}.season_hours`, !!info.oneSeason, problems),
        historySteps: v("history_steps") ?? 0,
        fitSteps: v("fit_steps") ?? 0,
      };
      spec.params = { case: row.kind as "mstl" | "autoEts" | "autoArima" | "seasonalNaive", value };
      break;
    }
    case "ensemble": {
      row.members.forEach((member, m) => {
        if (!earlier.includes(member)) {
          problems.push({ field: `${params}.members[${m}]`, description: `'${member}' is not a model listed before the ensemble` });
        }
      });
      if (!earlier.length) problems.push({ field: `${params}.members`, description: "an ensemble needs at least one model listed before it" });
      spec.params = { case: "ensemble", value: { members: row.members } };
      break;
    }
    default:
      spec.params = { case: "linearRegression", value: {} };
  }
  return { spec, problems };
}

// Every row's ModelSpec, and everything wrong with them (duplicate ids included).
export function toModelSpecs(rows: ModelRow[]): { specs: ModelSpecInit[]; problems: FieldProblem[] } {
  const ids = rows.map(effectiveModelId);
  const built = rows.map((row, i) => {
    // Ensembles average models, not other ensembles.
    const earlier = ids.slice(0, i).filter((_, j) => rows[j].kind !== "ensemble");
    return toModelSpec(row, i, earlier);
  });
  const problems = built.flatMap((b) => b.problems);
  ids.forEach((id, i) => {
    const first = ids.indexOf(id);
    if (first < i) problems.push({ field: `${modelPath(i)}.model_id`, description: `'${id}' is already used by model ${first + 1}` });
  });
  return { specs: built.map((b) => b.spec), problems };
}
