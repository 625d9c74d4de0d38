// The upload's SHA-256, off the page's thread: reads each posted Blob slice and hashes
// it, in the order the page sent them (see hashing.ts).
import { SerialHasher } from "./hashing";

const hasher = new SerialHasher();

self.onmessage = async (e: MessageEvent<{ id: number; op: string; state?: Uint8Array; blob?: Blob }>) => {
  const { id, op } = e.data;
  try {
    let result: unknown;
    if (op === "reset") result = await hasher.reset(e.data.state);
    else if (op === "update") result = await hasher.update(e.data.blob!);
    else if (op === "save") result = await hasher.save();
    else if (op === "digest") result = await hasher.digest();
    else throw new Error(`unknown operation ${op}`);
    (self as unknown as Worker).postMessage({ id, result });
  } catch (error) {
    (self as unknown as Worker).postMessage({ id, error: String(error) });
  }
};
