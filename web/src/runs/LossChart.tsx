// Loss and validation loss of every Keras model of a run against the epoch, growing
// point by point as epoch_end events arrive. A data table below carries the same points
// (for screen readers, and for the end-to-end test to count them).
import { useMemo } from "react";
import { LineChart, PALETTE, type SeriesSpec } from "../charts/LineChart";
import { formatNumber } from "../lib/format";
import { reportsEpochs } from "./modelTypes";
import { shortModel, type ModelView } from "./runEvents";

export function LossChart({ models, onDraw }: { models: ModelView[]; onDraw?: () => void }) {
  const withEpochs = useMemo(
    () => models.filter((m) => m.epochs.length > 0 || reportsEpochs(m.modelType)),
    [models],
  );
  const { x, series, values } = useMemo(() => {
    const maxEpoch = Math.max(0, ...withEpochs.flatMap((m) => m.epochs.map((p) => p.epoch)));
    const x = Array.from({ length: maxEpoch }, (_, i) => i + 1);
    const series: SeriesSpec[] = [];
    const values: (number | null)[][] = [];
    withEpochs.forEach((m, i) => {
      const byEpoch = new Map(m.epochs.map((p) => [p.epoch, p]));
      series.push({ label: `${shortModel(m.name)} loss`, color: PALETTE[i % PALETTE.length], points: true });
      values.push(x.map((e) => byEpoch.get(e)?.loss ?? null));
      series.push({ label: `${shortModel(m.name)} val_loss`, color: PALETTE[i % PALETTE.length], dash: [6, 4], points: true });
      values.push(x.map((e) => byEpoch.get(e)?.valLoss ?? null));
    });
    return { x, series, values };
  }, [withEpochs]);
  if (!withEpochs.length) return <p>No Keras model in this run: linear, SVR, LightGBM, statistical and ensemble models train without epochs, so there is no loss curve.</p>;
  return (
    <>
      <LineChart title="Loss and validation loss by epoch" xLabel="epoch" yLabel="loss (MSE, scaled)" x={x}
        series={series} values={values} onDraw={onDraw} integerX />
      <details>
        <summary>Loss values as a table</summary>
        <table aria-label="Loss by epoch" data-testid="loss-table">
          <thead><tr><th scope="col">Model</th><th scope="col">Epoch</th><th scope="col">loss</th><th scope="col">val_loss</th></tr></thead>
          <tbody>
            {withEpochs.flatMap((m) => m.epochs.map((p) => (
              <tr key={`${m.name}:${p.epoch}`} data-model={shortModel(m.name)} data-epoch={p.epoch}>
                <td>{shortModel(m.name)}</td><td>{p.epoch}</td><td>{formatNumber(p.loss)}</td><td>{formatNumber(p.valLoss)}</td>
              </tr>
            )))}
          </tbody>
        </table>
      </details>
    </>
  );
}
