// A server-streamed download (header with size and SHA-256, then chunks) collected into
// a Blob, with progress, the SHA-256 checked incrementally as the chunks arrive.
import { createSHA256 } from "hash-wasm";

export interface DownloadHeaderLike {
  sizeBytes: bigint;
  sha256: string;
  contentType: string;
  fileName?: string;
}

export type DownloadMessage =
  | { case: "header"; value: DownloadHeaderLike }
  | { case: "chunk"; value: Uint8Array }
  | { case: undefined; value?: undefined };

export interface Downloaded {
  blob: Blob;
  fileName: string;
  sizeBytes: number;
  sha256: string;
}

export async function collectDownload(
  messages: AsyncIterable<{ content: DownloadMessage }>,
  onProgress: (received: number, total: number) => void = () => {},
  fallbackName = "download",
): Promise<Downloaded> {
  const hasher = await createSHA256();
  hasher.init();
  const parts: Uint8Array[] = [];
  let header: DownloadHeaderLike | null = null;
  let received = 0;
  for await (const { content } of messages) {
    if (content.case === "header") header = content.value;
    else if (content.case === "chunk") {
      hasher.update(content.value);
      parts.push(content.value);
      received += content.value.length;
      onProgress(received, Number(header?.sizeBytes ?? 0));
    }
  }
  if (!header) throw new Error("the download had no header");
  if (received !== Number(header.sizeBytes)) throw new Error(`received ${received} bytes, the header announced ${header.sizeBytes}`);
  const sha256 = hasher.digest("hex");
  if (sha256 !== header.sha256) throw new Error(`SHA-256 mismatch: got ${sha256}, the header announced ${header.sha256}`);
  return {
    blob: new Blob(parts as BlobPart[], { type: header.contentType || "application/octet-stream" }),
    fileName: header.fileName || fallbackName,
    sizeBytes: received,
    sha256,
  };
}

// Hands a blob to the browser as a file download.
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function csvCell(v: string | number | null | undefined): string {
  if (v == null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: (string | number | null | undefined)[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}
