import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ResumeStore, type KeyValueStore } from "./resumeStore";
import { Uploader, type UploadCalls, type UploadProgress, type UploadSource } from "./uploader";

class MemoryStorage implements KeyValueStore {
  data = new Map<string, string>();
  getItem(k: string) { return this.data.get(k) ?? null; }
  setItem(k: string, v: string) { this.data.set(k, v); }
  removeItem(k: string) { this.data.delete(k); }
}

function source(bytes: Uint8Array, reads: [number, number][] = []): UploadSource {
  return {
    name: "load.csv", size: bytes.length, lastModified: 1700000000000,
    slice: (start, end) => ({
      arrayBuffer: async () => { reads.push([start, end]); return bytes.slice(start, end).buffer; },
    }),
  };
}

// An in-memory upload service with the contract's offset rules.
class FakeService implements UploadCalls<{ sha256: string; bytes: Uint8Array }> {
  uploads = new Map<string, { data: number[]; active: boolean }>();
  writes: [number, number][] = [];
  failNextWrites = 0;
  loseResponseOfWrite = -1; // the write at this index is stored, then its response is "lost"
  created = 0;

  async create() {
    const name = `uploads/u${++this.created}`;
    this.uploads.set(name, { data: [], active: true });
    return { name, receivedBytes: 0, active: true };
  }
  async get(name: string) {
    const u = this.uploads.get(name);
    return u ? { name, receivedBytes: u.data.length, active: u.active } : null;
  }
  async write(name: string, offset: number, chunk: Uint8Array) {
    const index = this.writes.length;
    this.writes.push([offset, chunk.length]);
    if (this.failNextWrites > 0) { this.failNextWrites--; throw new Error("network down"); }
    const u = this.uploads.get(name)!;
    if (offset > u.data.length) throw Object.assign(new Error(`expected offset ${u.data.length}`), { permanent: true });
    const skip = u.data.length - offset;
    u.data.push(...chunk.subarray(Math.min(skip, chunk.length)));
    if (index === this.loseResponseOfWrite) throw new Error("connection reset after the write");
    return { name, receivedBytes: u.data.length, active: true };
  }
  async complete(name: string, sha256: string) {
    const u = this.uploads.get(name)!;
    const bytes = Uint8Array.from(u.data);
    const actual = createHash("sha256").update(bytes).digest("hex");
    if (actual !== sha256) throw new Error(`sha mismatch ${sha256} vs ${actual}`);
    u.active = false;
    return { sha256, bytes };
  }
}

const bytesOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251);
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const fast = { sleep: async () => {}, retryDelayMs: 0 };

describe("Uploader", () => {
  it("sends the file in chunks at consecutive offsets and completes with its SHA-256", async () => {
    const bytes = bytesOf(10_000);
    const service = new FakeService();
    const store = new ResumeStore(new MemoryStorage());
    const reads: [number, number][] = [];
    const progress: UploadProgress[] = [];
    const file = await new Uploader(source(bytes, reads), service, store, (p) => progress.push(p), { chunkBytes: 3000, ...fast }).run();
    expect(file.sha256).toBe(sha(bytes));
    expect(service.writes).toEqual([[0, 3000], [3000, 3000], [6000, 3000], [9000, 1000]]);
    // Never more than a chunk read at once; each chunk read once to send it and once to hash it.
    const chunks = [[0, 3000], [3000, 6000], [6000, 9000], [9000, 10000]];
    expect([...reads].sort((a, b) => a[0] - b[0])).toEqual(chunks.flatMap((c) => [c, c]));
    expect(progress.at(-1)!.phase).toBe("done");
    expect(store.get(source(bytes))).toBeNull();
  });

  it("resumes after a reload at the server's offset, from the saved hash state, without re-reading", async () => {
    const bytes = bytesOf(10_000);
    const service = new FakeService();
    const storage = new MemoryStorage();
    const first = new Uploader(source(bytes), service, new ResumeStore(storage), () => {}, { chunkBytes: 2500, ...fast });
    // The page goes away during the third write: the first two are acknowledged.
    let writes = 0;
    const original = service.write.bind(service);
    service.write = async (n, o, d) => {
      if (++writes === 3) return new Promise(() => {});
      return original(n, o, d);
    };
    void first.run();
    await new Promise((r) => setTimeout(r, 20));
    service.write = original;
    const saved = new ResumeStore(storage).get(source(bytes))!;
    expect(saved.upload).toBe("uploads/u1");
    expect(saved.hashedOffset).toBe(5000);

    const reads: [number, number][] = [];
    const progress: UploadProgress[] = [];
    const second = new Uploader(source(bytes, reads), service, new ResumeStore(storage), (p) => progress.push(p), { chunkBytes: 2500, ...fast });
    const file = await second.run();
    expect(file.sha256).toBe(sha(bytes));
    expect(service.created).toBe(1);
    expect(progress.find((p) => p.phase === "uploading")!.resumedFrom).toBe(5000);
    expect(Math.min(...reads.map((r) => r[0]))).toBe(5000); // nothing before the offset read again
  });

  it("re-hashes from the start when the saved state does not cover the server's offset", async () => {
    const bytes = bytesOf(6000);
    const service = new FakeService();
    const storage = new MemoryStorage();
    const store = new ResumeStore(storage);
    const { name } = await service.create();
    await service.write(name, 0, bytes.subarray(0, 4000));
    store.put(source(bytes), { upload: name, hashedOffset: 0 }); // no hasher state saved
    const reads: [number, number][] = [];
    const file = await new Uploader(source(bytes, reads), service, store, () => {}, { chunkBytes: 1500, ...fast }).run();
    expect(file.sha256).toBe(sha(bytes));
    expect(reads.slice(0, 3)).toEqual([[0, 1500], [1500, 3000], [3000, 4000]]);
    expect(service.writes.slice(1)).toEqual([[4000, 1500], [5500, 500]]);
  });

  it("starts a new upload when the saved one is gone", async () => {
    const bytes = bytesOf(100);
    const service = new FakeService();
    const store = new ResumeStore(new MemoryStorage());
    store.put(source(bytes), { upload: "uploads/reaped", hashedOffset: 0 });
    const file = await new Uploader(source(bytes), service, store, () => {}, fast).run();
    expect(file.sha256).toBe(sha(bytes));
    expect(service.created).toBe(1);
  });

  it("retries a dropped connection, sending only what GetUpload says is missing", async () => {
    const bytes = bytesOf(9000);
    const service = new FakeService();
    service.loseResponseOfWrite = 1; // the second chunk arrives, its answer does not
    const file = await new Uploader(source(bytes), service, new ResumeStore(new MemoryStorage()), () => {}, { chunkBytes: 3000, ...fast }).run();
    expect(file.sha256).toBe(sha(bytes));
    expect(service.writes).toEqual([[0, 3000], [3000, 3000], [6000, 3000]]);

    const flaky = new FakeService();
    flaky.failNextWrites = 2;
    const again = await new Uploader(source(bytes), flaky, new ResumeStore(new MemoryStorage()), () => {}, { chunkBytes: 3000, ...fast }).run();
    expect(again.sha256).toBe(sha(bytes));
    expect(flaky.writes.slice(0, 3)).toEqual([[0, 3000], [0, 3000], [0, 3000]]);
  });

  it("gives up on an error that is not transient", async () => {
    const service = new FakeService();
    service.failNextWrites = 1;
    const uploader = new Uploader(source(bytesOf(10)), service, new ResumeStore(new MemoryStorage()), () => {}, {
      ...fast, isTransient: () => false,
    });
    await expect(uploader.run()).rejects.toThrow("network down");
  });

  it("pauses between chunks and goes on when resumed", async () => {
    const bytes = bytesOf(4000);
    const service = new FakeService();
    const progress: UploadProgress[] = [];
    const uploader = new Uploader(source(bytes), service, new ResumeStore(new MemoryStorage()), (p) => progress.push(p), { chunkBytes: 1000, ...fast });
    uploader.pause();
    const done = uploader.run();
    await new Promise((r) => setTimeout(r, 20));
    expect(progress.at(-1)!.phase).toBe("paused");
    const before = service.writes.length;
    uploader.resume();
    const file = await done;
    expect(file.sha256).toBe(sha(bytes));
    expect(service.writes.length).toBeGreaterThan(before);
  });
});
