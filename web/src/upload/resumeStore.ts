// Where an unfinished upload of a local file stands, kept across page reloads: the
// upload's name, and the SHA-256 state after the bytes the server has acknowledged, so
// a resumed upload neither re-sends nor re-hashes what is already done.

export interface LocalFileIdentity {
  name: string;
  size: number;
  lastModified: number;
}

export interface ResumePoint {
  upload: string; // "uploads/{upload}"
  hashedOffset: number; // bytes the saved hasher state covers
  hasherState?: string; // hash-wasm's saved SHA-256 state, base64
}

const PREFIX = "tsforge.upload:";

// Same name, size and modification time: taken to be the same file picked again.
export function fingerprint(file: LocalFileIdentity): string {
  return `${file.name}|${file.size}|${file.lastModified}`;
}

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export class ResumeStore {
  constructor(private readonly storage: KeyValueStore) {}

  get(file: LocalFileIdentity): ResumePoint | null {
    const raw = this.storage.getItem(PREFIX + fingerprint(file));
    if (!raw) return null;
    try {
      const point = JSON.parse(raw) as ResumePoint;
      return typeof point.upload === "string" && Number.isFinite(point.hashedOffset) ? point : null;
    } catch {
      return null;
    }
  }

  put(file: LocalFileIdentity, point: ResumePoint): void {
    this.storage.setItem(PREFIX + fingerprint(file), JSON.stringify(point));
  }

  remove(file: LocalFileIdentity): void {
    this.storage.removeItem(PREFIX + fingerprint(file));
  }
}

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
