// The one grpc-web transport of the console. The edge serves the console and the API
// on the same origin, so the base URL is the page's own origin unless a developer
// points it elsewhere (localStorage "tsforge.apiBaseUrl", e.g. a gateway on :8080
// while vite serves the page on :5173; that origin must be in the edge's CORS list).
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

export const API_BASE_URL_KEY = "tsforge.apiBaseUrl";

export function apiBaseUrl(): string {
  const override = globalThis.localStorage?.getItem(API_BASE_URL_KEY);
  if (override) return override.replace(/\/+$/, "");
  // Served under a path prefix or not, the API is at the origin's root.
  return window.location.origin;
}

export interface AuthHooks {
  token(): string | null;
  // Called with the server's reason whenever a call comes back UNAUTHENTICATED.
  onUnauthenticated(reason: string): void;
}

export function authInterceptor(hooks: AuthHooks): Interceptor {
  return (next) => async (request) => {
    const token = hooks.token();
    if (token) request.header.set("authorization", `Bearer ${token}`);
    try {
      const response = await next(request);
      if (!response.stream) return response;
      // A server stream fails while it is read: watch the messages for the same code.
      return { ...response, message: guardStream(response.message, hooks) };
    } catch (error) {
      noteUnauthenticated(error, hooks);
      throw error;
    }
  };
}

async function* guardStream<T>(messages: AsyncIterable<T>, hooks: AuthHooks): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    noteUnauthenticated(error, hooks);
    throw error;
  }
}

function noteUnauthenticated(error: unknown, hooks: AuthHooks): void {
  const e = ConnectError.from(error);
  if (e.code === Code.Unauthenticated) hooks.onUnauthenticated(e.rawMessage || "the token was refused");
}

// Chromium sends a fetch body given as a Uint8Array many times slower than the same bytes
// as a Blob (measured here: 5 MiB in ~860 ms against ~130 ms, most of it blocking the
// page); upload chunks are megabytes, so large bodies go out as Blobs.
const BLOB_BODY_BYTES = 64 * 1024;

export const blobBodyFetch: typeof fetch = (input, init) => {
  const body = init?.body;
  if (body instanceof Uint8Array && body.byteLength >= BLOB_BODY_BYTES) {
    return globalThis.fetch(input, { ...init, body: new Blob([body as BlobPart]) });
  }
  return globalThis.fetch(input, init);
};

export function createTransport(hooks: AuthHooks, baseUrl = apiBaseUrl()): Transport {
  return createGrpcWebTransport({
    baseUrl,
    useBinaryFormat: true,
    interceptors: [authInterceptor(hooks)],
    fetch: blobBodyFetch,
  });
}
