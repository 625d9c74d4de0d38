// Every model type the contract has (common.proto ModelType), as people call it, and
// what its progress looks like: only the Keras models report epochs and batches; the
// others (scikit-learn, LightGBM, statsforecast, ensembles) report a start and an end.

export type ModelFamily = "neural" | "svr" | "linear" | "lightgbm" | "statistical" | "ensemble";

interface ModelTypeInfo {
  label: string;
  family: ModelFamily;
}

// Keyed by the enum value's name without its prefix ("LIGHTGBM"), as enumName gives it.
const MODEL_TYPES: Record<string, ModelTypeInfo> = {
  DENSE: { label: "Dense", family: "neural" },
  CNN: { label: "CNN", family: "neural" },
  LSTM: { label: "LSTM", family: "neural" },
  AR_LSTM: { label: "Autoregressive LSTM", family: "neural" },
  SVR_DIRECT: { label: "SVR (direct)", family: "svr" },
  SVR_MIMO: { label: "SVR (MIMO)", family: "svr" },
  LINEAR_REGRESSION: { label: "Linear regression", family: "linear" },
  LIGHTGBM: { label: "LightGBM", family: "lightgbm" },
  MSTL: { label: "MSTL (statsforecast)", family: "statistical" },
  AUTO_ETS: { label: "AutoETS (statsforecast)", family: "statistical" },
  AUTO_ARIMA: { label: "AutoARIMA (statsforecast)", family: "statistical" },
  SEASONAL_NAIVE: { label: "Seasonal naive (statsforecast)", family: "statistical" },
  ENSEMBLE: { label: "Ensemble", family: "ensemble" },
};

// "LightGBM" for "LIGHTGBM"; an unknown (newer) type is shown in words from its name.
export function modelTypeLabel(modelType: string): string {
  return MODEL_TYPES[modelType]?.label ?? (modelType ? modelType.toLowerCase().replace(/_/g, " ") : "–");
}

export function modelFamily(modelType: string): ModelFamily | null {
  return MODEL_TYPES[modelType]?.family ?? null;
}

// Whether the model reports epochs (and batches) while it trains.
export function reportsEpochs(modelType: string): boolean {
  return modelFamily(modelType) === "neural";
}
