// Incremental SHA-256 of a file read a slice at a time. The console hashes in a Web
// Worker (hashWorker.ts), so hashing chunk i overlaps with sending it instead of holding
// the page's thread; the unit tests hash in the same thread. Both keep the order of
// calls: save() returns the state after every update() called before it.
import { createSHA256, type IHasher } from "hash-wasm";

export interface SliceSource {
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

export interface IncrementalHash {
  reset(state?: Uint8Array): Promise<boolean>; // false: the state could not be loaded, started afresh
  update(blob: { arrayBuffer(): Promise<ArrayBuffer> }): Promise<void>;
  save(): Promise<Uint8Array>;
  digest(): Promise<string>; // lower-case hex
  close(): void;
}

// One hasher, one operation at a time, in call order.
export class SerialHasher implements IncrementalHash {
  private queue: Promise<unknown> = Promise.resolve();
  private hasher: Promise<IHasher>;

  constructor() {
    this.hasher = createSHA256().then((h) => { h.init(); return h; });
  }

  private run<T>(op: (h: IHasher) => T | Promise<T>): Promise<T> {
    const next = this.queue.then(async () => op(await this.hasher));
    this.queue = next.catch(() => undefined);
    return next;
  }

  reset(state?: Uint8Array): Promise<boolean> {
    return this.run((h) => {
      h.init();
      if (!state) return true;
      try {
        h.load(state);
        return true;
      } catch {
        h.init();
        return false;
      }
    });
  }

  update(blob: { arrayBuffer(): Promise<ArrayBuffer> }): Promise<void> {
    return this.run(async (h) => { h.update(new Uint8Array(await blob.arrayBuffer())); });
  }

  save(): Promise<Uint8Array> {
    return this.run((h) => h.save());
  }

  digest(): Promise<string> {
    return this.run((h) => h.digest("hex"));
  }

  close(): void {}
}

type Request =
  | { id: number; op: "reset"; state?: Uint8Array }
  | { id: number; op: "update"; blob: Blob }
  | { id: number; op: "save" }
  | { id: number; op: "digest" };

// The same, in a Web Worker: the page posts Blob slices (cheap), the worker reads and hashes them.
export class WorkerHasher implements IncrementalHash {
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<{ id: number; result?: unknown; error?: string }>) => {
      const w = this.waiting.get(e.data.id);
      this.waiting.delete(e.data.id);
      if (e.data.error !== undefined) w?.reject(new Error(e.data.error));
      else w?.resolve(e.data.result);
    };
    worker.onerror = (e) => {
      for (const w of this.waiting.values()) w.reject(new Error(`hash worker: ${e.message}`));
      this.waiting.clear();
    };
  }

  private call<T>(request: Request extends infer R ? (R extends Request ? Omit<R, "id"> : never) : never): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  reset(state?: Uint8Array) { return this.call<boolean>({ op: "reset", state }); }
  update(blob: { arrayBuffer(): Promise<ArrayBuffer> }) { return this.call<void>({ op: "update", blob: blob as Blob }); }
  save() { return this.call<Uint8Array>({ op: "save" }); }
  digest() { return this.call<string>({ op: "digest" }); }
  close() { this.worker.terminate(); }
}

export function browserHasher(): IncrementalHash {
  if (typeof Worker === "undefined") return new SerialHasher();
  return new WorkerHasher(new Worker(new URL("./hashWorker.ts", import.meta.url), { type: "module" }));
}
