// Which baseline a model has to beat (the strongest on the validation split, over every
// season the data implies), and which models beat it; in plain words when none does.
import { DataSplit } from "../gen/tsforge/common/v1/common_pb";
import { ValueUnits, type Evaluation, type MetricValue } from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import { enumName } from "../lib/format";
import { shortModel } from "../runs/runEvents";
import { Value } from "./tableParts";
import { baselineList, forecastLabel, METRICS } from "./tables";

export function BaselineSummary({ ev }: { ev: Evaluation }) {
  const c = ev.baselineComparison;
  const metric = METRICS.find((m) => m.metric === c?.metric)?.label ?? "MAE";
  const units = c ? enumName(ValueUnits, c.units).toLowerCase() : "";
  const value = (v: MetricValue | undefined) => <Value v={{ value: v?.value ?? null, reason: v?.undefinedReason ?? "none" }} />;
  return (
    <section className="card" aria-labelledby="baselines-heading" data-testid="baselines">
      <h2 id="baselines-heading">Baselines</h2>
      <p>Computed beside the models, on the same samples: <span data-testid="baseline-list">{baselineList(ev.baselines)}</span>.</p>
      {c?.bestBaseline ? (
        <>
          <p data-testid="best-baseline">
            The baseline to beat, strongest on the {enumName(DataSplit, DataSplit.VALIDATION).toLowerCase()} split by {metric} ({units} units):{" "}
            <strong>{forecastLabel(c.bestBaseline)}</strong>, {value(c.bestBaselineValue)}. Skill columns{ev.options?.seasonSteps ? "" : " and MASE"} refer to it.
          </p>
          {c.modelsBeatingBaseline.length > 0 ? (
            <p data-testid="models-beating">Models that beat it: {c.modelsBeatingBaseline.map(shortModel).join(", ")}.</p>
          ) : (
            <p role="status" className="warning" data-testid="models-beating">
              No model beats the strongest baseline on the validation split: {forecastLabel(c.bestBaseline)} forecasts at least as well as every model here.
            </p>
          )}
          {c.bestModel && <p>Best model: {shortModel(c.bestModel)}, {value(c.bestModelValue)}.</p>}
        </>
      ) : (
        <p className="muted">No baseline has a value on the validation split, so none is the reference.</p>
      )}
    </section>
  );
}
