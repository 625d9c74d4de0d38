// Model choices ⇄ ModelSpec, with the bounds and defaults the contract states
// (training_resources.proto: NeuralParams, CnnParams, SvrParams). An empty field means
// the contract's default (the zero value); the bounds are checked before sending and
// again by the service, whose violations name "run.model_specs[i]...".
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Activation, ModelSpecSchema, SvrKernel } from "../gen/tsforge/training/v1/training_resources_pb";
import type { FieldProblem } from "../api/errors";

export type ModelKind = "dense" | "cnn" | "lstm" | "arLstm" | "svrDirect" | "svrMimo" | "linearRegression";

export const MODEL_KINDS: { kind: ModelKind; label: string; neural: boolean; svr: boolean }[] = [
  { kind: "dense", label: "Dense", neural: true, svr: false },
  { kind: "cnn", label: "CNN", neural: true, svr: false },
  { kind: "lstm", label: "LSTM", neural: true, svr: false },
  { kind: "arLstm", label: "Autoregressive LSTM", neural: true, svr: false },
  { kind: "svrDirect", label: "SVR (direct)", neural: false, svr: true },
  { kind: "svrMimo", label: "SVR (MIMO)", neural: false, svr: true },
  { kind: "linearRegression", label: "Linear regression", neural: false, svr: false },
];

export interface Bound {
  field: string; // proto field name under the params message
  label: string;
  min: number;
  max: number;
  minExclusive?: boolean;
  integer: boolean;
  defaultValue: number;
  help: string;
}

export const NEURAL_BOUNDS: Bound[] = [
  { field: "layers", label: "Hidden layers", min: 1, max: 16, integer: true, defaultValue: 3, help: "1..16" },
  { field: "units", label: "Units per layer", min: 1, max: 4096, integer: true, defaultValue: 512, help: "1..4096 (filters for CNN)" },
  { field: "epochs", label: "Epochs", min: 1, max: 2000, integer: true, defaultValue: 20, help: "1..2000" },
  { field: "batch_size", label: "Batch size", min: 1, max: 65536, integer: true, defaultValue: 32, help: "1..65536" },
  { field: "learning_rate", label: "Learning rate", min: 0, max: 1, minExclusive: true, integer: false, defaultValue: 0.001, help: "Adam, > 0 and ≤ 1" },
  { field: "early_stopping_patience", label: "Early-stopping patience", min: 0, max: 2000, integer: true, defaultValue: 2, help: "epochs without val_loss improvement, 0..2000" },
];

export const CNN_KERNEL: Bound = {
  field: "kernel_size", label: "Kernel size", min: 1, max: 4096, integer: true, defaultValue: 3, help: "1..input steps",
};

export const SVR_BOUNDS: Bound[] = [
  { field: "c", label: "C", min: 0, max: Number.MAX_VALUE, minExclusive: true, integer: false, defaultValue: 1, help: "regularization, > 0" },
  { field: "epsilon", label: "Epsilon", min: 0, max: Number.MAX_VALUE, integer: false, defaultValue: 0.1, help: "tube width, ≥ 0" },
];

export const ACTIVATIONS = ["RELU", "SIGMOID", "TANH", "SOFTMAX", "LINEAR", "ELU", "SELU", "SOFTPLUS", "SOFTSIGN", "SWISH", "GELU"] as const;
export const SVR_KERNELS = ["POLY", "LINEAR", "RBF", "SIGMOID"] as const;

export interface ModelRow {
  kind: ModelKind;
  modelId: string;
  displayName: string;
  seed: string;
  values: Record<string, string>; // by Bound.field; empty means the default
  activation: (typeof ACTIVATIONS)[number];
  svrKernel: (typeof SVR_KERNELS)[number];
}

export function newModelRow(kind: ModelKind, modelId = ""): ModelRow {
  return { kind, modelId, displayName: "", seed: "0", values: {}, activation: "RELU", svrKernel: "POLY" };
}

export function boundsOf(kind: ModelKind): Bound[] {
  const info = MODEL_KINDS.find((k) => k.kind === kind)!;
  if (info.neural) return kind === "cnn" ? [...NEURAL_BOUNDS, CNN_KERNEL] : NEURAL_BOUNDS;
  return info.svr ? SVR_BOUNDS : [];
}

function snake(kind: ModelKind): string {
  return kind.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

function checkBound(b: Bound, text: string, path: string, problems: FieldProblem[]): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const v = Number(t);
  const low = b.minExclusive ? v <= b.min : v < b.min;
  if (!Number.isFinite(v) || low || v > b.max || (b.integer && !Number.isInteger(v))) {
    problems.push({ field: path, description: `${b.label.toLowerCase()}: ${b.help}, got ${text}` });
    return undefined;
  }
  return v;
}

type ModelSpecInit = MessageInitShape<typeof ModelSpecSchema>;

// The ModelSpec of a row at position i of the run, and what is wrong with it.
export function toModelSpec(row: ModelRow, i: number): { spec: ModelSpecInit; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const base = `run.model_specs[${i}]`;
  const params = `${base}.${snake(row.kind)}`;
  const seedText = row.seed.trim();
  if (seedText && !/^-?\d+$/.test(seedText)) problems.push({ field: `${base}.seed`, description: "must be a whole number" });
  if (row.modelId && !/^[a-z][a-z0-9-]{0,62}$/.test(row.modelId)) {
    problems.push({ field: `${base}.model_id`, description: "lower-case letters, digits and -, starting with a letter" });
  }
  const get = (b: Bound, prefix: string) => checkBound(b, row.values[b.field] ?? "", `${prefix}.${b.field}`, problems);
  const info = MODEL_KINDS.find((k) => k.kind === row.kind)!;
  const spec: ModelSpecInit = {
    modelId: row.modelId,
    displayName: row.displayName,
    seed: /^-?\d+$/.test(seedText) ? BigInt(seedText) : 0n,
  };
  if (info.neural) {
    const n = `${params}.neural`;
    const v = (field: string) => get(NEURAL_BOUNDS.find((b) => b.field === field)!, n);
    const neural = {
      layers: v("layers") ?? 0,
      units: v("units") ?? 0,
      epochs: v("epochs") ?? 0,
      batchSize: v("batch_size") ?? 0,
      learningRate: v("learning_rate") ?? 0,
      activation: Activation[row.activation],
      earlyStoppingPatience: v("early_stopping_patience"),
    };
    if (row.kind === "cnn") spec.params = { case: "cnn", value: { neural, kernelSize: get(CNN_KERNEL, params) ?? 0 } };
    else spec.params = { case: row.kind as "dense" | "lstm" | "arLstm", value: { neural } };
  } else if (info.svr) {
    const value = {
      kernel: SvrKernel[row.svrKernel],
      c: get(SVR_BOUNDS[0], params) ?? 0,
      epsilon: get(SVR_BOUNDS[1], params),
    };
    spec.params = { case: row.kind as "svrDirect" | "svrMimo", value };
  } else {
    spec.params = { case: "linearRegression", value: {} };
  }
  return { spec, problems };
}
