// The uploader's calls, made with the UploadService client.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Clients } from "../api/clients";
import { FeatureRole } from "../gen/tsforge/common/v1/common_pb";
import { type File as TsFile, type Upload, UploadState } from "../gen/tsforge/upload/v1/upload_service_pb";
import type { UploadCalls, UploadState as Progress } from "./uploader";

function state(u: Upload | undefined): Progress {
  if (!u) throw new Error("the service returned no upload");
  return { name: u.name, receivedBytes: Number(u.receivedBytes), active: u.state === UploadState.ACTIVE };
}

export interface UploadMetadata {
  role: FeatureRole;
  displayName: string;
  description: string;
}

export function uploadCalls(clients: Clients, meta: UploadMetadata): UploadCalls<TsFile> {
  const c = clients.upload;
  return {
    async create(fileName, size) {
      const r = await c.createUpload({
        upload: {
          fileName, role: meta.role, displayName: meta.displayName, description: meta.description,
          declaredSizeBytes: BigInt(size),
        },
      });
      return state(r.upload);
    },
    async get(name) {
      try {
        return state((await c.getUpload({ name })).upload);
      } catch (error) {
        if (ConnectError.from(error).code === Code.NotFound) return null;
        throw error;
      }
    },
    async write(name, offset, data) {
      return state((await c.writeUploadChunk({ name, offset: BigInt(offset), data }, { timeoutMs: 120_000 })).upload);
    },
    async complete(name, sha256) {
      const r = await c.completeUpload({ name, sha256 }, { timeoutMs: 600_000 });
      if (!r.file) throw new Error("the service returned no file");
      return r.file;
    },
  };
}

// Errors worth another try: the connection, the edge or the service went away.
export function isTransient(error: unknown): boolean {
  const code = ConnectError.from(error).code;
  return code === Code.Unavailable || code === Code.Unknown || code === Code.DeadlineExceeded || code === Code.Aborted;
}
