import { StegoGatewayError } from './errors';

/** AES-256 keys by id; the active key seals, every key opens (rotation). */
export interface KeyRing {
  readonly activeKeyId: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

export const KEY_BYTES = 32;
/** Key ids travel inside embedded frames with a one-byte length: keep them short and printable. */
const KEY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

function invalid(message: string): StegoGatewayError {
  return new StegoGatewayError('INVALID_KEY_RING', message, { httpStatus: 500 });
}

function checkKeyId(id: string): void {
  if (!KEY_ID_PATTERN.test(id)) {
    throw invalid(`key id must match ${KEY_ID_PATTERN.source} [${id.slice(0, 80)}]`);
  }
}

function checkKey(id: string, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw invalid(`key [${id}] must be ${KEY_BYTES} bytes`);
  }
}

function freezeRing(activeKeyId: string, keys: Map<string, Uint8Array>): KeyRing {
  return Object.freeze({ activeKeyId, keys });
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/** A fresh ring with one key; `randomBytes` is injected (node's crypto.randomBytes in production). */
export function generateKeyRing(randomBytes: (n: number) => Uint8Array, keyId?: string): KeyRing {
  const key = Uint8Array.from(randomBytes(KEY_BYTES));
  const id = keyId ?? `k-${toHex(randomBytes(6))}`;
  checkKeyId(id);
  checkKey(id, key);
  return freezeRing(id, new Map([[id, key]]));
}

/** Adds (or replaces) a key; with `makeActive` it seals from now on, older keys still open. */
export function addKeyToRing(
  ring: KeyRing,
  id: string,
  key: Uint8Array,
  makeActive: boolean,
): KeyRing {
  checkKeyId(id);
  checkKey(id, key);
  const keys = new Map(ring.keys);
  keys.set(id, Uint8Array.from(key));
  return freezeRing(makeActive ? id : ring.activeKeyId, keys);
}

/** JSON form: `{ version: 1, activeKeyId, keys: { id: base64 } }`. */
export function serializeKeyRing(ring: KeyRing): object {
  const keys: Record<string, string> = {};
  for (const [id, key] of ring.keys) keys[id] = Buffer.from(key).toString('base64');
  return { version: 1, activeKeyId: ring.activeKeyId, keys };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Parses the JSON form; every problem is an INVALID_KEY_RING error naming the offending part. */
export function parseKeyRing(json: unknown): KeyRing {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid('key ring must be a JSON object');
  }
  const record = json as Record<string, unknown>;
  if (record['version'] !== undefined && record['version'] !== 1) {
    throw invalid(`unsupported key ring version [${String(record['version'])}]`);
  }
  const activeKeyId = record['activeKeyId'];
  if (typeof activeKeyId !== 'string') throw invalid('activeKeyId must be a string');
  const rawKeys = record['keys'];
  if (typeof rawKeys !== 'object' || rawKeys === null || Array.isArray(rawKeys)) {
    throw invalid('keys must be an object of id -> base64 key');
  }
  const keys = new Map<string, Uint8Array>();
  for (const [id, value] of Object.entries(rawKeys as Record<string, unknown>)) {
    checkKeyId(id);
    if (typeof value !== 'string' || !BASE64.test(value)) {
      throw invalid(`key [${id}] must be a base64 string`);
    }
    const key = new Uint8Array(Buffer.from(value, 'base64'));
    checkKey(id, key);
    keys.set(id, key);
  }
  if (keys.size === 0) throw invalid('key ring holds no key');
  if (!keys.has(activeKeyId)) throw invalid(`active key id is not in the ring [${activeKeyId}]`);
  return freezeRing(activeKeyId, keys);
}

/** The active key's bytes (the ring guarantees it exists). */
export function activeKey(ring: KeyRing): Uint8Array {
  const key = ring.keys.get(ring.activeKeyId);
  if (key === undefined) throw invalid(`active key id is not in the ring [${ring.activeKeyId}]`);
  return key;
}
