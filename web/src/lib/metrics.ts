// Timings the end-to-end test and the bench read from the page (window.__tsforgeMetrics):
// when the first file list drew, each upload's duration, and how long a WatchRun event
// took from the service to the chart.
export interface ConsoleMetrics {
  firstFileListMs: number | null; // performance.now() when the file list first drew
  uploads: { name: string; bytes: number; seconds: number; readMs: number; hashMs: number; writeWaitMs: number; sendMs: number }[];
  chartDraws: { eventMs: number; drawnMs: number }[]; // event time (service), chart drawn (Date.now())
}

declare global {
  interface Window {
    __tsforgeMetrics?: ConsoleMetrics;
  }
}

export function metrics(): ConsoleMetrics {
  if (typeof window === "undefined") return { firstFileListMs: null, uploads: [], chartDraws: [] };
  return (window.__tsforgeMetrics ??= { firstFileListMs: null, uploads: [], chartDraws: [] });
}
