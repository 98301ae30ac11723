/**
 * The little CBOR (RFC 8949) a COSE_Sign1 needs: unsigned and negative integers, byte and text strings, arrays,
 * maps with integer or text keys, null and tags, in preferred (shortest) encoding. Map entries keep the order given,
 * which is what COSE headers need to be byte-stable between signing and verifying.
 */

/** A value this encoder writes. */
export type CborValue = number | string | Uint8Array | null | readonly CborValue[] | CborMap | CborTagged;

/** A CBOR map: entries in the order they are written. */
export type CborMap = ReadonlyMap<number | string, CborValue>;

/** A tagged value, e.g. tag 18 for COSE_Sign1. */
export interface CborTagged {
  readonly tag: number;
  readonly value: CborValue;
}

const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
const SIMPLE_NULL = 0xf6;

function head(major: number, argument: number): Uint8Array {
  if (!Number.isSafeInteger(argument) || argument < 0) throw new RangeError(`CBOR argument out of range: ${argument}`);
  const m = major << 5;
  if (argument < 24) return Uint8Array.of(m | argument);
  if (argument < 0x100) return Uint8Array.of(m | 24, argument);
  if (argument < 0x10000) return Uint8Array.of(m | 25, argument >> 8, argument & 0xff);
  if (argument < 0x100000000) {
    const out = new Uint8Array(5);
    out[0] = m | 26;
    new DataView(out.buffer).setUint32(1, argument);
    return out;
  }
  const out = new Uint8Array(9);
  out[0] = m | 27;
  new DataView(out.buffer).setBigUint64(1, BigInt(argument));
  return out;
}

function isTagged(value: CborValue): value is CborTagged {
  return typeof value === "object" && value !== null && !(value instanceof Uint8Array) && !(value instanceof Map) && !Array.isArray(value);
}

function encodeInto(value: CborValue, parts: Uint8Array[]): void {
  if (value === null) {
    parts.push(Uint8Array.of(SIMPLE_NULL));
  } else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new RangeError(`only integers are encoded, got ${value}`);
    parts.push(value >= 0 ? head(MAJOR_UNSIGNED, value) : head(MAJOR_NEGATIVE, -1 - value));
  } else if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    parts.push(head(MAJOR_TEXT, bytes.length), bytes);
  } else if (value instanceof Uint8Array) {
    parts.push(head(MAJOR_BYTES, value.length), value);
  } else if (Array.isArray(value)) {
    parts.push(head(MAJOR_ARRAY, value.length));
    for (const item of value as readonly CborValue[]) encodeInto(item, parts);
  } else if (value instanceof Map) {
    parts.push(head(MAJOR_MAP, value.size));
    for (const [k, v] of value as CborMap) {
      encodeInto(k, parts);
      encodeInto(v, parts);
    }
  } else if (isTagged(value)) {
    parts.push(head(MAJOR_TAG, value.tag));
    encodeInto(value.value, parts);
  }
}

/** Encodes `value` as CBOR. */
export function encodeCbor(value: CborValue): Uint8Array {
  const parts: Uint8Array[] = [];
  encodeInto(value, parts);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
