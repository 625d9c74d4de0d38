// A uPlot line chart: small (≈50 KB), canvas-drawn, and cheap to update point by point
// with setData, which is what live training curves need. Drag to zoom, double-click
// to reset.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface SeriesSpec {
  label: string;
  color: string;
  dash?: number[];
  points?: boolean;
  bars?: boolean;
}

interface Props {
  title: string; // also the accessible name of the figure
  xLabel: string;
  yLabel: string;
  x: number[];
  series: SeriesSpec[];
  values: (number | null)[][]; // one array per series, aligned with x
  time?: boolean; // x in seconds since the epoch
  height?: number;
  onDraw?: () => void; // after each redraw (for the event → chart delay measurement)
  logY?: boolean;
  integerX?: boolean; // ticks only at whole numbers (epochs, forecast steps)
}

const INTEGER_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

export const PALETTE = ["#1f5fbf", "#b8420f", "#137333", "#7b3fb2", "#a3161d", "#0b7285", "#6b5e00", "#c2185b"];

export function LineChart({ title, xLabel, yLabel, x, series, values, time = false, height = 280, onDraw, logY, integerX }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const drawHook = useRef(onDraw);
  drawHook.current = onDraw;
  const shape = `${time}|${logY}|${integerX}|${series.map((s) => s.label).join("|")}`;

  useEffect(() => {
    const el = host.current!;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height,
      scales: { x: { time }, y: logY ? { distr: 3 } : {} },
      // Times are shown in UTC, as everywhere else in the console.
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      axes: [
        { label: xLabel, stroke: "#333", ...(integerX ? { incrs: INTEGER_STEPS } : {}) },
        { label: yLabel, stroke: "#333", size: 60 },
      ],
      series: [
        { label: xLabel },
        ...series.map((s) => ({
          label: s.label, stroke: s.color, dash: s.dash, width: 2,
          points: { show: s.points ?? false },
          paths: s.bars ? uPlot.paths.bars!({ size: [0.9] }) : undefined,
          fill: s.bars ? s.color + "66" : undefined,
        })),
      ],
      cursor: { drag: { x: true, y: false } },
      legend: { live: false },
      hooks: { draw: [() => drawHook.current?.()] },
    };
    const u = new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, el);
    chart.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      chart.current = null;
    };
    // Rebuilt only when the series change; new points go through setData below.
  }, [shape, height, xLabel, yLabel]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    chart.current?.setData([x, ...values] as uPlot.AlignedData);
  }, [x, values, shape]);

  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={host} role="img" aria-label={`${title}: chart of ${series.map((s) => s.label).join(", ")} by ${xLabel}`} />
    </figure>
  );
}
