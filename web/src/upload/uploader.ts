// A resumable, chunked upload of one local file through the unary flow:
// CreateUpload → WriteUploadChunk(offset) … → CompleteUpload(sha256).
//
// The file is read chunk by chunk with Blob.slice (never whole in memory) and hashed
// incrementally (hash-wasm's SHA-256; WebCrypto's digest is one-shot). One write is in
// flight at a time (the server takes chunks in offset order) while the next chunk is
// read and hashed. After each acknowledged chunk the upload's name and the hasher state
// are saved, so a reload resumes at the offset GetUpload reports; a dropped connection
// is retried, re-synchronised with GetUpload. In the page the hashing runs in a Web
// Worker (hashing.ts), so it overlaps with sending.
import { SerialHasher, type IncrementalHash } from "./hashing";
import { fromBase64, ResumeStore, toBase64 } from "./resumeStore";

export const DEFAULT_CHUNK_BYTES = 5 * 1024 * 1024; // an S3 multipart part of its own
export const MAX_CHUNK_BYTES = 6 * 1024 * 1024; // the contract's limit per chunk

export interface UploadSource {
  name: string;
  size: number;
  lastModified: number;
  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

export interface UploadState {
  name: string;
  receivedBytes: number;
  active: boolean; // false once completed
}

// The calls the uploader makes; the console passes the UploadService client's.
export interface UploadCalls<F> {
  create(fileName: string, size: number): Promise<UploadState>;
  get(name: string): Promise<UploadState | null>; // null: gone (reaped, aborted, never existed)
  write(name: string, offset: number, data: Uint8Array): Promise<UploadState>;
  complete(name: string, sha256: string): Promise<F>;
}

export interface UploadProgress {
  sentBytes: number;
  totalBytes: number;
  bytesPerSecond: number; // over the last few seconds
  etaSeconds: number | null;
  resumedFrom: number; // bytes the server already had when this attempt started
  phase: "starting" | "hashing" | "uploading" | "paused" | "completing" | "done" | "failed" | "retrying";
}

export interface UploaderOptions {
  chunkBytes?: number;
  retries?: number; // per chunk, for errors that may pass (network, UNAVAILABLE)
  retryDelayMs?: number;
  isTransient?: (error: unknown) => boolean;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  hasher?: () => IncrementalHash; // default: in this thread
}

export class Uploader<F> {
  private paused = false;
  private resumeWaiters: (() => void)[] = [];
  private readonly chunkBytes: number;
  private readonly speed: SpeedMeter;
  private progress: UploadProgress;
  uploadName: string | null = null;
  // Where the time went (ms), for the bench: waiting for reads, hashing, waiting for writes.
  readonly timings = { readMs: 0, hashMs: 0, writeWaitMs: 0, sendMs: 0 };

  constructor(
    private readonly file: UploadSource,
    private readonly calls: UploadCalls<F>,
    private readonly store: ResumeStore,
    private readonly onProgress: (p: UploadProgress) => void = () => {},
    private readonly options: UploaderOptions = {},
  ) {
    this.chunkBytes = Math.min(Math.max(1, options.chunkBytes ?? DEFAULT_CHUNK_BYTES), MAX_CHUNK_BYTES);
    this.speed = new SpeedMeter(options.now ?? (() => performance.now()));
    this.progress = {
      sentBytes: 0, totalBytes: file.size, bytesPerSecond: 0, etaSeconds: null, resumedFrom: 0, phase: "starting",
    };
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    waiters.forEach((w) => w());
  }

  get isPaused(): boolean {
    return this.paused;
  }

  // Uploads the file (resuming a saved upload of it when the server still has it) and
  // returns the created file. Throws the server's error when it is not transient.
  async run(): Promise<F> {
    const hasher = (this.options.hasher ?? (() => new SerialHasher()))();
    try {
      return await this.upload(hasher);
    } finally {
      hasher.close();
    }
  }

  private async upload(hasher: IncrementalHash): Promise<F> {
    let offset = await this.attach();
    const hashed = await this.catchUpHash(hasher, offset);
    offset = Math.max(offset, hashed);
    this.progress.resumedFrom = offset;
    this.report({ sentBytes: offset, phase: "uploading" });
    this.speed.reset(offset);

    const size = this.file.size;
    const clock = this.options.now ?? (() => performance.now());
    let pending: Promise<void> | null = null;
    let hashing: Promise<void> = Promise.resolve();
    let nextRead: Promise<Uint8Array> | null = offset < size ? this.read(offset) : null;
    let position = offset; // start of the chunk being prepared
    while (nextRead) {
      let t = clock();
      const data = await nextRead;
      this.timings.readMs += clock() - t;
      const start = position;
      position += data.length;
      nextRead = position < size ? this.read(position) : null;
      // The hasher state before this chunk matches the server's offset once the
      // previous write is acknowledged: that is the point worth saving. The chunk is
      // hashed (from its own slice of the file) while it is sent.
      const before = hasher.save();
      const update = hasher.update(this.file.slice(start, position));
      hashing = hashing.then(() => update);
      t = clock();
      if (pending) await pending;
      this.timings.writeWaitMs += clock() - t;
      t = clock();
      const state = await before;
      this.timings.hashMs += clock() - t;
      t = clock();
      this.save(start, state);
      if (this.paused) await this.waitWhilePaused();
      pending = this.writeChunk(start, data);
      this.timings.sendMs += clock() - t;
    }
    if (pending) await pending;
    await hashing;
    this.save(size, await hasher.save());

    this.report({ phase: "completing", sentBytes: size, etaSeconds: 0 });
    const sha256 = await hasher.digest();
    const created = await this.calls.complete(this.uploadName!, sha256);
    this.store.remove(this.file);
    this.report({ phase: "done" });
    return created;
  }

  // The upload to write into and the server's offset: the saved one if still active.
  private async attach(): Promise<number> {
    const saved = this.store.get(this.file);
    if (saved) {
      const state = await this.calls.get(saved.upload);
      if (state && state.active) {
        this.uploadName = state.name;
        return state.receivedBytes;
      }
      this.store.remove(this.file);
    }
    const created = await this.calls.create(this.file.name, this.file.size);
    this.uploadName = created.name;
    this.store.put(this.file, { upload: created.name, hashedOffset: 0 });
    return created.receivedBytes;
  }

  // Brings the hasher to `offset`: from the saved state when it covers a prefix of the
  // received bytes, else from the start; reads the local file only, sends nothing.
  private async catchUpHash(hasher: IncrementalHash, offset: number): Promise<number> {
    const saved = this.store.get(this.file);
    let hashed = 0;
    if (saved?.hasherState && saved.hashedOffset <= offset) {
      if (await hasher.reset(fromBase64(saved.hasherState))) hashed = saved.hashedOffset;
    } else {
      await hasher.reset();
    }
    if (hashed < offset) this.report({ phase: "hashing", sentBytes: offset });
    while (hashed < offset) {
      const end = Math.min(offset, hashed + this.chunkBytes);
      await hasher.update(this.file.slice(hashed, end));
      hashed = end;
    }
    return hashed;
  }

  private async read(start: number, length = this.chunkBytes): Promise<Uint8Array> {
    const end = Math.min(this.file.size, start + length);
    return new Uint8Array(await this.file.slice(start, end).arrayBuffer());
  }

  private save(hashedOffset: number, state: Uint8Array): void {
    this.store.put(this.file, { upload: this.uploadName!, hashedOffset, hasherState: toBase64(state) });
  }

  private waitWhilePaused(): Promise<void> {
    this.report({ phase: "paused", bytesPerSecond: 0, etaSeconds: null });
    return new Promise((resolve) => {
      this.resumeWaiters.push(() => {
        this.speed.reset(this.progress.sentBytes);
        this.report({ phase: "uploading" });
        resolve();
      });
    });
  }

  // Writes [start, start + data.length), retrying transient failures; after a failure
  // GetUpload says how much arrived, and only the rest is sent again.
  private async writeChunk(start: number, data: Uint8Array): Promise<void> {
    const end = start + data.length;
    const retries = this.options.retries ?? 8;
    const isTransient = this.options.isTransient ?? (() => true);
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let from = start;
    for (let attempt = 0; ; attempt++) {
      try {
        const state = await this.calls.write(this.uploadName!, from, data.subarray(from - start));
        this.sent(Math.min(state.receivedBytes, end));
        if (state.receivedBytes >= end) return;
        from = state.receivedBytes;
      } catch (error) {
        if (attempt >= retries || !isTransient(error)) {
          this.report({ phase: "failed" });
          throw error;
        }
        this.report({ phase: "retrying" });
        await sleep((this.options.retryDelayMs ?? 500) * Math.min(2 ** attempt, 16));
        const state = await this.calls.get(this.uploadName!).catch(() => null);
        if (state) {
          if (state.receivedBytes >= end) {
            this.sent(end);
            return;
          }
          if (state.receivedBytes < start) throw new Error(`the server lost bytes: it has ${state.receivedBytes}, expected ${start}`);
          from = state.receivedBytes;
        }
        this.report({ phase: "uploading" });
      }
    }
  }

  private sent(bytes: number): void {
    this.speed.add(bytes);
    const rate = this.speed.rate();
    const left = this.file.size - bytes;
    this.report({ sentBytes: bytes, bytesPerSecond: rate, etaSeconds: rate > 0 ? left / rate : null });
  }

  private report(change: Partial<UploadProgress>): void {
    this.progress = { ...this.progress, ...change };
    this.onProgress(this.progress);
  }
}

// Bytes per second over a sliding window of the last few seconds.
export class SpeedMeter {
  private samples: [number, number][] = [];
  constructor(private readonly now: () => number, private readonly windowMs = 5000) {}

  reset(bytes: number): void {
    this.samples = [[this.now(), bytes]];
  }

  add(bytes: number): void {
    const t = this.now();
    this.samples.push([t, bytes]);
    while (this.samples.length > 2 && t - this.samples[1][0] > this.windowMs) this.samples.shift();
  }

  rate(): number {
    if (this.samples.length < 2) return 0;
    const [t0, b0] = this.samples[0];
    const [t1, b1] = this.samples[this.samples.length - 1];
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
  }
}
