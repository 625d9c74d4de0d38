// Numbers, sizes, times and durations in words.
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";

export function timestampMs(t: Timestamp | undefined): number | null {
  return t ? Number(t.seconds) * 1000 + Math.round(t.nanos / 1e6) : null;
}

export function durationSeconds(d: Duration | undefined): number | null {
  return d ? Number(d.seconds) + d.nanos / 1e9 : null;
}

export function timestampFromMs(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function formatBytes(n: number | bigint): string {
  let v = Number(n);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatTime(t: Timestamp | number | undefined | null): string {
  const ms = typeof t === "number" ? t : t == null ? null : timestampMs(t);
  if (ms == null) return "–";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function formatNumber(v: number | null | undefined, digits = 4): string {
  if (v == null || Number.isNaN(v)) return "–";
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(digits)).toString();
}

// The enum value's name without its prefix, as protoc-gen-es names it ("RUNNING").
export function enumName(e: Record<number, string>, value: number): string {
  return e[value] ?? String(value);
}

// "runs/abc/models/dense" → "dense"; "files/x" → "x".
export function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}
