// Prediction intervals in words. Every model of a run gets split-conformal intervals
// calibrated on the validation split (training_resources.proto PredictionIntervals;
// tsforge/forecasting/intervals.py): the levels are the service's, not a setting, and a
// level a needs ceil((n + 1) a) ≤ n of n validation windows (19 for 95 %), so a small
// split drops some.

export const CONFORMAL_LEVELS = [0.8, 0.95];

// The levels n validation windows can calibrate.
export function calibratableLevels(n: number, levels: number[] = CONFORMAL_LEVELS): number[] {
  // The same arithmetic as the service's, so the same levels are left out.
  return levels.filter((a) => Math.ceil((n + 1) * a) <= n);
}

export function formatLevel(level: number): string {
  return `${Number((level * 100).toFixed(1))} %`;
}

export interface IntervalsInWords {
  levels: string; // "80 %, 95 %"
  widths: string[]; // per level: "80 %: ± 1.2–3.4" (half-widths over steps and features)
}

// A model's intervals (levels ascending, half-widths indexed ((level × steps) + step) ×
// features + feature) as the run page shows them; null without any.
export function describeIntervals(levels: number[], halfWidths: number[], digits = 3): IntervalsInWords | null {
  if (!levels.length) return null;
  const block = Math.floor(halfWidths.length / levels.length);
  const fmt = (v: number) => Number(v.toPrecision(digits)).toString();
  const widths = levels.map((level, i) => {
    const part = halfWidths.slice(i * block, (i + 1) * block).filter(Number.isFinite);
    if (!part.length) return formatLevel(level);
    const lo = Math.min(...part);
    const hi = Math.max(...part);
    return `${formatLevel(level)}: ± ${lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`}`;
  });
  return { levels: levels.map(formatLevel).join(", "), widths };
}
