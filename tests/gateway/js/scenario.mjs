// What a browser app does with tsforge over grpc-web, written against the code that
// protoc-gen-es generates and @connectrpc/connect-web's transport: a unary call, a
// paginated list and a server stream. Runs unchanged in Node and in Chromium; returns
// plain JSON for the Python test to check.
import { createClient, ConnectError, Code } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { UploadService } from "../../../.build/es/tsforge/upload/v1/upload_service_pb.js";

export async function runScenario({ baseUrl, token, fileName, streamFileName }) {
  const transport = createGrpcWebTransport({ baseUrl, useBinaryFormat: true });
  const client = createClient(UploadService, transport);
  const headers = { authorization: `Bearer ${token}` };
  const result = {};

  const { file } = await client.getFile({ name: fileName }, { headers, timeoutMs: 10000 });
  result.unary = { name: file.name, sizeBytes: String(file.sizeBytes), rowCount: String(file.profile.rowCount),
                   columns: file.profile.columns.map((c) => c.name) };

  result.pages = [];
  let pageToken = "";
  do {
    const page = await client.listFiles({ pageSize: 2, pageToken }, { headers });
    result.pages.push(page.files.map((f) => f.name));
    pageToken = page.nextPageToken;
  } while (pageToken && result.pages.length < 20);

  const started = performance.now();
  const messages = [];
  const received = [];
  for await (const message of client.downloadFile({ name: streamFileName }, { headers })) {
    const at = Math.round((performance.now() - started) * 10) / 10;
    if (message.content.case === "header") {
      messages.push({ kind: "header", at, sizeBytes: String(message.content.value.sizeBytes),
                      sha256: message.content.value.sha256 });
    } else {
      messages.push({ kind: "chunk", at, bytes: message.content.value.length });
      received.push(message.content.value);
    }
  }
  const whole = new Uint8Array(received.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of received) { whole.set(chunk, offset); offset += chunk.length; }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", whole));
  result.stream = { messages, sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join("") };

  result.errors = {};
  for (const [label, call] of [
    ["missing", () => client.getFile({ name: "files/does-not-exist" }, { headers })],
    ["anonymous", () => client.getFile({ name: fileName })],
  ]) {
    try {
      await call();
      result.errors[label] = "no error";
    } catch (error) {
      const connectError = ConnectError.from(error);
      result.errors[label] = { code: Code[connectError.code], message: connectError.rawMessage };
    }
  }
  return result;
}
