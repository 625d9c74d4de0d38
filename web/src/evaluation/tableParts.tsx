// What the evaluation page's tables share: reading a whole metric table (every page),
// a value or why it is undefined, and CSV export of a table.
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useClients } from "../app/context";
import { ErrorNotice } from "../components/common";
import type { DataSplit } from "../gen/tsforge/common/v1/common_pb";
import {
  MetricTableKind, type Evaluation, type Metric, type MetricTable, type ValueUnits,
} from "../gen/tsforge/evaluation/v1/evaluation_resources_pb";
import { collectDownload, saveBlob } from "../lib/download";
import { enumName, formatNumber, lastSegment } from "../lib/format";
import { downloads } from "../lib/limit";

export function useTable(ev: Evaluation, kind: MetricTableKind, split: DataSplit, units: ValueUnits, rankMetric?: Metric, features?: string[]) {
  const clients = useClients();
  return useQuery({
    queryKey: ["table", ev.name, kind, split, units, rankMetric, features],
    queryFn: async () => {
      const rows: MetricTable["rows"] = [];
      let pageToken = "";
      do {
        const r = await clients.evaluation.readMetricTable({
          name: ev.name, table: { kind, split, units, rankMetric, features }, pageSize: 1000, pageToken,
        });
        rows.push(...(r.table?.rows ?? []));
        pageToken = r.nextPageToken;
      } while (pageToken);
      return rows;
    },
  });
}

export function Value({ v, percent }: { v: { value: number | null; reason: string }; percent?: boolean }) {
  if (v.value == null) return <span className="muted" title={v.reason}>undefined</span>;
  return <>{percent ? `${formatNumber(v.value * 100, 3)} %` : formatNumber(v.value)}</>;
}

export function ExportButton({ ev, kind, split, units, rankMetric, label }: {
  ev: Evaluation; kind: MetricTableKind; split: DataSplit; units: ValueUnits; rankMetric?: Metric; label: string;
}) {
  const clients = useClients();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const exportCsv = async () => {
    setBusy(true);
    setError(null);
    try {
      const d = await downloads(() => collectDownload(
        clients.evaluation.exportMetricTable({ name: ev.name, table: { kind, split, units, rankMetric } }),
        undefined, `${lastSegment(ev.name)}-${enumName(MetricTableKind, kind).toLowerCase()}.csv`,
      ));
      saveBlob(d.blob, d.fileName.endsWith(".csv") ? d.fileName : `${lastSegment(ev.name)}-${enumName(MetricTableKind, kind).toLowerCase()}.csv`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="secondary" onClick={exportCsv} disabled={busy}>{busy ? "Exporting…" : `Export ${label} as CSV`}</button>
      <ErrorNotice error={error} title="Export failed" />
    </>
  );
}
