/**
 * fast-check arbitraries for any request message, found by walking its descriptor (a field added to a proto is fuzzed
 * without anyone writing a generator): valid-shaped proto3 JSON — ids from a small pool so requests meet each other's
 * rows, content hashes, real enum names, RFC 3339 timestamps, Structs — and, at a chosen rate, hostile values in
 * place of any field: strings past every bound, NUL, lone surrogates, deep and huge Structs, huge repeated fields,
 * unknown fields (`seedd`), wrong JSON types, negative and overflowing numbers, bad enums, bad timestamps. Binary
 * payloads are the same messages encoded, then truncated, corrupted or extended.
 */
import { createHash } from "node:crypto";
import { ScalarType, fromJson, toBinary, type DescEnum, type DescField, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import fc from "fast-check";

/** Bytes past which the servers refuse a whole request (MAX_REQUEST_BYTES' default, 8 MiB), plus a margin. */
export const PAST_REQUEST_LIMIT = 8 * 1024 * 1024 + 4096;

/** How hostile the generated values are: the chance (0..1) that a field gets a hostile value instead of a valid one. */
export interface Hostility {
  /** Per present field. */
  field: number;
  /** Per message object: an unknown field next to the known ones. */
  unknownField: number;
  /** Let values past MAX_REQUEST_BYTES be drawn (they cost ~10 ms each to build and send). */
  huge: boolean;
}

/** Valid-shaped only. */
export const CALM: Hostility = { field: 0, unknownField: 0, huge: false };

const sha = (label: string) => createHash("sha256").update(label).digest("hex");

/** Ids shared by every case, so that a case can meet what an earlier one created (or find it missing). */
const ID_POOL = ["p1", "p2", "scene-1", "seg-1", "seg-2", "a-model", "a-lora", "a-source", "r-1", "job-1", "batch-1", "k-1"];
const HASH_POOL = ["v1", "v2", "v3"].map(sha);

const plainText = fc.string({ unit: "grapheme", maxLength: 12 });

/** Any JSON value, typed as protobuf-es types JSON. */
function anyJson(maxDepth: number): fc.Arbitrary<JsonValue> {
  return fc.jsonValue({ maxDepth }) as fc.Arbitrary<JsonValue>;
}

/** Strings a client would plausibly send. */
const validString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ID_POOL) },
  { weight: 2, arbitrary: fc.constantFrom(...HASH_POOL) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._:-]{0,15}$/) },
  { weight: 1, arbitrary: plainText },
  { weight: 1, arbitrary: fc.constant("") },
);

const repeated = new Map<string, string>();

/** `unit` repeated to at least `bytes` of UTF-8, made once per size and unit (the huge ones cost milliseconds). */
function repeatTo(bytes: number, unit: string): string {
  const key = `${bytes}:${unit}`;
  let s = repeated.get(key);
  if (s === undefined) {
    s = unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
    repeated.set(key, s);
  }
  return s;
}

/** Strings no bound lets through, or that no database can store. */
function hostileString(h: Hostility): fc.Arbitrary<string> {
  const arbs: fc.WeightedArbitrary<string>[] = [
    { weight: 3, arbitrary: fc.constantFrom(513, 2049, 8193, 65_537, 70_000).map((n) => repeatTo(n, "x")) },
    { weight: 1, arbitrary: fc.constantFrom(257, 32_769).map((n) => repeatTo(n, "é")) },
    { weight: 1, arbitrary: fc.constantFrom(200, 20_000).map((n) => repeatTo(n, "😀")) },
    { weight: 3, arbitrary: fc.tuple(plainText, plainText).map(([a, b]) => `${a}\u0000${b}`) },
    { weight: 3, arbitrary: fc.constantFrom("\uD800", "a\uDC00b", "x\uDBFF", "\uDFFF\uD800", "ok\uD83D") },
    { weight: 1, arbitrary: fc.constantFrom(" ", "\n", "\u200B", "\uFEFF", "../../etc/passwd", "'; DROP TABLE x;--", "%00", "\\u0000") },
  ];
  if (h.huge) arbs.push({ weight: 1, arbitrary: fc.constant(null).map(() => repeatTo(PAST_REQUEST_LIMIT, "x")) });
  return fc.oneof(...arbs);
}

/** Values of the wrong JSON type for a field of `kind`. */
function wrongType(kind: "string" | "number" | "bool" | "object" | "array"): fc.Arbitrary<JsonValue> {
  const all: Record<typeof kind, fc.Arbitrary<JsonValue>> = {
    string: fc.constantFrom("12", "true", "x", ""),
    number: fc.constantFrom(0, 1, -1, 1.5, 1e300),
    bool: fc.boolean(),
    object: fc.constantFrom<JsonValue>({}, { value: 1 }),
    array: fc.constantFrom<JsonValue>([], [1], ["x"]),
  };
  const others = (Object.keys(all) as (typeof kind)[]).filter((k) => k !== kind);
  return fc.oneof(...others.map((k) => all[k]));
}

const INT_RANGES: Partial<Record<ScalarType, [bigint, bigint]>> = {
  [ScalarType.INT32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.SINT32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.SFIXED32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.UINT32]: [0n, 2n ** 32n - 1n],
  [ScalarType.FIXED32]: [0n, 2n ** 32n - 1n],
  [ScalarType.INT64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.SINT64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.SFIXED64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.UINT64]: [0n, 2n ** 64n - 1n],
  [ScalarType.FIXED64]: [0n, 2n ** 64n - 1n],
};

function is64(t: ScalarType): boolean {
  return [ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64, ScalarType.UINT64, ScalarType.FIXED64].includes(t);
}

function validScalar(t: ScalarType): fc.Arbitrary<JsonValue> {
  switch (t) {
    case ScalarType.STRING:
      return validString;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b).toString("base64"));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.constantFrom(0, 1, 6.5, 0.8));
    default: {
      const [min, max] = INT_RANGES[t]!;
      const small = fc.bigInt({ min: min < 0n ? -100n : 0n, max: 100n });
      const n = fc.oneof({ weight: 4, arbitrary: small }, { weight: 1, arbitrary: fc.bigInt({ min, max }) });
      // 64-bit integers are JSON strings (numbers are accepted too); 32-bit ones are numbers.
      return is64(t) ? n.map((v) => v.toString()) : n.map((v) => Number(v));
    }
  }
}

function hostileScalar(t: ScalarType, h: Hostility): fc.Arbitrary<JsonValue> {
  if (t === ScalarType.STRING) return fc.oneof({ weight: 4, arbitrary: hostileString(h) }, { weight: 1, arbitrary: wrongType("string") });
  if (t === ScalarType.BOOL) return fc.oneof(wrongType("bool"), fc.constantFrom("yes", "TRUE", 1));
  if (t === ScalarType.BYTES) return fc.constantFrom("!!!!", "a", "====", 5, "\u0000");
  if (t === ScalarType.DOUBLE || t === ScalarType.FLOAT) {
    return fc.constantFrom("NaN", "Infinity", "-Infinity", "1e400", "1e-400", "0x10", " 1", "", "abc", true, [], {}, 3.4e39);
  }
  const [min, max] = INT_RANGES[t]!;
  return fc.oneof(
    // One past each end, far past them, as numbers and as strings.
    fc.constantFrom((max + 1n).toString(), (min - 1n).toString(), (2n ** 64n).toString(), (-(2n ** 64n)).toString(), "1e3", "1.5", "-0", " 7", "0x1f", "", "abc"),
    fc.constantFrom(Number(max) * 2, Number(min) - 1, 1.5, -1, 2 ** 53 + 1, 1e300, -1e300),
    wrongType("number").filter((v) => typeof v !== "string"),
  );
}

function validEnum(e: DescEnum): fc.Arbitrary<JsonValue> {
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...e.values.map((v) => v.name)) }, { weight: 1, arbitrary: fc.constantFrom(...e.values.map((v) => v.number)) });
}

function hostileEnum(e: DescEnum): fc.Arbitrary<JsonValue> {
  const first = e.values[e.values.length - 1]!.name;
  return fc.constantFrom("NOT_A_VALUE", "", first.toLowerCase(), ` ${first}`, 99, -1, 2 ** 31, 1.5, "1", true, {}, []);
}

const timestamp = fc
  .date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })
  .map((d) => d.toISOString());

const BAD_TIMESTAMPS: JsonValue[] = [
  "2024-13-01T00:00:00Z",
  "2024-02-30T25:61:61Z",
  "not a date",
  "10000-01-01T00:00:00Z",
  "0000-01-01T00:00:00Z",
  "2024-01-01",
  "2024-01-01T00:00:00",
  "2024-01-01T00:00:00.1234567891Z",
  "2024-01-01T00:00:00+25:00",
  "",
  1_700_000_000,
  { seconds: 1 },
  [],
];

/** A JSON object nested `depth` levels deep (the top object is level 1). */
export function nested(depth: number): JsonObject {
  let v: JsonObject = { leaf: 1 };
  for (let i = 1; i < depth; i++) v = { d: v };
  return v;
}

const jsonKey = fc.oneof(fc.constantFrom("fps", "motion", "seed", "a.b", "", "__proto__", "constructor"), fc.string({ maxLength: 6 }));
const structValue: fc.Arbitrary<JsonObject> = fc.dictionary(jsonKey, anyJson(3), { maxKeys: 4 }) as fc.Arbitrary<JsonObject>;

let keys5000: JsonObject | undefined;

/** A Struct of 5,000 keys (past 64 KiB as JSON), made once. */
function manyKeys(): JsonObject {
  keys5000 ??= Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
  return keys5000;
}

function hostileStruct(h: Hostility): fc.Arbitrary<JsonValue> {
  const arbs: fc.Arbitrary<JsonValue>[] = [
    fc.constantFrom(33, 40, 200, 3000).map(nested),
    fc.constantFrom(66_000, 200_000).map((n) => ({ blob: repeatTo(n, "x") })),
    fc.constant(null).map(() => manyKeys()),
    fc.constantFrom<JsonValue>({ "a\u0000b": 1 }, { k: "v\u0000" }, { "\uD800": 1 }, { k: ["x\uDC00"] }, { k: { deep: "\uDBFF" } }),
    fc.constantFrom<JsonValue>([], "x", 1, true, [1, 2]),
  ];
  if (h.huge) arbs.push(fc.constant(null).map(() => ({ blob: repeatTo(PAST_REQUEST_LIMIT, "x") })));
  return fc.oneof(...arbs);
}

function validMessageValue(desc: DescMessage, h: Hostility, depth: number): fc.Arbitrary<JsonValue> | undefined {
  switch (desc.typeName) {
    case "google.protobuf.Timestamp":
      return timestamp;
    case "google.protobuf.Duration":
      return fc.constantFrom("1s", "1.5s", "0s", "-2s");
    case "google.protobuf.Struct":
      return structValue;
    case "google.protobuf.Value":
      return anyJson(3);
    case "google.protobuf.ListValue":
      return fc.array(anyJson(2), { maxLength: 3 });
    case "google.protobuf.StringValue":
      return validString;
    case "google.protobuf.BoolValue":
      return fc.boolean();
    case "google.protobuf.Int32Value":
    case "google.protobuf.UInt32Value":
      return fc.nat(1000);
    case "google.protobuf.Int64Value":
    case "google.protobuf.UInt64Value":
      return fc.nat(1000).map(String);
    case "google.protobuf.DoubleValue":
    case "google.protobuf.FloatValue":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "google.protobuf.Empty":
      return fc.constant({});
    default:
      return depth > 4 ? undefined : messageJson(desc, h, depth + 1);
  }
}

function hostileMessageValue(desc: DescMessage, h: Hostility): fc.Arbitrary<JsonValue> {
  if (desc.typeName === "google.protobuf.Timestamp") return fc.constantFrom(...BAD_TIMESTAMPS);
  if (desc.typeName === "google.protobuf.Struct" || desc.typeName === "google.protobuf.Value") return hostileStruct(h);
  return fc.oneof(wrongType("object"), fc.constant(null));
}

type FieldValue = { valid: fc.Arbitrary<JsonValue>; hostile: fc.Arbitrary<JsonValue> } | undefined;

function singleValue(field: DescField, kind: "scalar" | "enum" | "message", h: Hostility, depth: number): FieldValue {
  if (kind === "scalar") return { valid: validScalar(field.scalar!), hostile: hostileScalar(field.scalar!, h) };
  if (kind === "enum") return { valid: validEnum(field.enum!), hostile: hostileEnum(field.enum!) };
  const valid = validMessageValue(field.message!, h, depth);
  return valid && { valid, hostile: hostileMessageValue(field.message!, h) };
}

function pickHostile(v: NonNullable<FieldValue>, h: Hostility): fc.Arbitrary<JsonValue> {
  if (h.field <= 0) return v.valid;
  const w = Math.max(1, Math.round(h.field * 100));
  return fc.oneof({ weight: 100 - Math.min(99, w), arbitrary: v.valid }, { weight: Math.min(99, w), arbitrary: v.hostile });
}

function fieldJson(field: DescField, h: Hostility, depth: number): fc.Arbitrary<JsonValue> | undefined {
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
    case "message": {
      const v = singleValue(field, field.fieldKind, h, depth);
      return v && pickHostile(v, h);
    }
    case "list": {
      const v = singleValue(field, field.listKind, h, depth);
      if (!v) return undefined;
      const valid = fc.array(pickHostile(v, h), { maxLength: 3 });
      if (h.field <= 0) return valid;
      const element = fc.sample(v.valid, { numRuns: 1, seed: 1 })[0]!;
      const hostile = fc.oneof(
        fc.constantFrom(65, 1001, 10_001).map((n) => Array.from({ length: n }, () => element)),
        wrongType("array"),
        fc.constant<JsonValue>([null]),
      );
      return pickHostile({ valid, hostile }, h);
    }
    case "map": {
      const v = singleValue(field, field.mapKind, h, depth);
      if (!v) return undefined;
      const key = field.mapKey === ScalarType.STRING ? validString : fc.nat(100).map(String);
      return fc.dictionary(key, pickHostile(v, h), { maxKeys: 3 }) as fc.Arbitrary<JsonValue>;
    }
  }
}

/** Keys that are no field of any request: misspellings (`seedd`, `wieght`) and names that mean something to JavaScript. */
const UNKNOWN_KEYS = fc.oneof(fc.constantFrom("seedd", "wieght", "segmentID", "__proto__", "constructor", "toString", "@type", ""), fc.stringMatching(/^[a-z_]{1,10}$/));

/**
 * Proto3 JSON objects of `desc`: each field present or not, under its proto name or its JSON name, at most one
 * member of a oneof; hostile values and unknown fields as `h` says.
 */
export function messageJson(desc: DescMessage, h: Hostility = CALM, depth = 0): fc.Arbitrary<JsonObject> {
  const parts: fc.Arbitrary<[string, JsonValue][]>[] = [];
  const oneofs = new Set<string>();
  for (const field of desc.fields) {
    if (field.oneof) {
      if (oneofs.has(field.oneof.name)) continue;
      oneofs.add(field.oneof.name);
      const members = field.oneof.fields.flatMap((f) => {
        const v = fieldJson(f, h, depth);
        return v ? [fc.tuple(fc.constantFrom(f.name, f.jsonName), v).map((e): [string, JsonValue][] => [e])] : [];
      });
      if (members.length > 0) parts.push(fc.option(fc.oneof(...members), { nil: [], freq: 2 }).map((e): [string, JsonValue][] => e));
      continue;
    }
    const v = fieldJson(field, h, depth);
    if (!v) continue;
    parts.push(fc.option(fc.tuple(fc.constantFrom(field.name, field.jsonName), v), { nil: undefined, freq: 3 }).map((e) => (e ? [e] : [])));
  }
  if (h.unknownField > 0) {
    const w = Math.max(1, Math.round(h.unknownField * 100));
    parts.push(
      fc.oneof({ weight: 100 - Math.min(99, w), arbitrary: fc.constant([] as [string, JsonValue][]) }, { weight: Math.min(99, w), arbitrary: fc.tuple(UNKNOWN_KEYS, anyJson(1)).map((e) => [e]) }),
    );
  }
  return fc.tuple(...parts).map((lists) => {
    const out: JsonObject = {};
    for (const list of lists) for (const [k, v] of list) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

/** JSON text of `desc` requests, with text-level damage at the given rate: truncated, not JSON, not an object. */
export function jsonText(desc: DescMessage, h: Hostility, damage: number): fc.Arbitrary<string> {
  const good = messageJson(desc, h).map((o) => JSON.stringify(o));
  if (damage <= 0) return good;
  const w = Math.max(1, Math.round(damage * 100));
  const damaged = fc.oneof(
    fc.tuple(good, fc.nat()).map(([t, n]) => t.slice(0, n % Math.max(1, t.length))),
    fc.tuple(good, fc.string({ maxLength: 4 })).map(([t, junk]) => `${t}${junk}`),
    fc.constantFrom("", "null", "[]", "42", '"x"', "{", "{,}", '{"a":}', "\uFEFF{}", "{}{}", '{"segment_id":"\\ud800"}', '{"a":1,"a":2}'),
    fc.string({ unit: "binary", maxLength: 20 }),
  );
  return fc.oneof({ weight: 100 - Math.min(99, w), arbitrary: good }, { weight: Math.min(99, w), arbitrary: damaged });
}

/** The binary form of a valid-shaped message (JSON values that do not decode give the empty message). */
function encoded(desc: DescMessage, json: JsonObject): Uint8Array {
  try {
    return toBinary(desc, fromJson(desc, json, { ignoreUnknownFields: true }));
  } catch {
    return new Uint8Array(0);
  }
}

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** Protobuf bytes of `desc` requests: encoded valid-shaped messages, damaged at the given rate. */
export function binaryMessage(desc: DescMessage, h: Hostility, damage: number): fc.Arbitrary<Uint8Array> {
  const good = messageJson(desc, { ...h, unknownField: 0 }).map((j) => encoded(desc, j));
  if (damage <= 0) return good;
  const fieldNumbers = desc.fields.map((f) => f.number);
  const tag = fc.oneof(fc.constantFrom(...(fieldNumbers.length ? fieldNumbers : [1])), fc.integer({ min: 1, max: 536_870_911 }));
  const w = Math.max(1, Math.round(damage * 100));
  const damaged = fc.oneof(
    // Cut anywhere: a field's length, a varint or a string ends early.
    fc.tuple(good, fc.nat()).map(([b, n]) => b.subarray(0, b.length === 0 ? 0 : n % b.length)),
    // A byte changed anywhere.
    fc.tuple(good, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, i, x]) => {
      const c = Uint8Array.from(b.length ? b : [0x0a, 0x00]);
      c[i % c.length] = x;
      return c;
    }),
    // A field appended: any number, any wire type, with a payload that may be invalid UTF-8 or a length past the end.
    fc
      .tuple(good, tag, fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7), fc.constantFrom([0xff, 0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x61], []))
      .map(([b, n, wire, payload]) => {
        const head = varint((BigInt(n) << 3n) | BigInt(wire));
        const body = wire === 2 ? [...varint(BigInt(payload.length)), ...payload] : wire === 0 ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] : payload;
        return Uint8Array.from([...b, ...head, ...body]);
      }),
    // A length-delimited field that claims more bytes than there are, or an 11-byte varint.
    fc.tuple(good, tag).map(([b, n]) => Uint8Array.from([...b, ...varint((BigInt(n) << 3n) | 2n), 0xff, 0xff, 0xff, 0xff, 0x07, 0x61])),
    fc.tuple(good, tag).map(([b, n]) => Uint8Array.from([...b, ...varint(BigInt(n) << 3n), ...Array(10).fill(0xff), 0x01])),
    // Random bytes.
    fc.uint8Array({ maxLength: 64 }),
  );
  return fc.oneof({ weight: 100 - Math.min(99, w), arbitrary: good }, { weight: Math.min(99, w), arbitrary: damaged });
}

const WELL_KNOWN = /^google\.protobuf\./;

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One change to `base`: a field replaced (often by a hostile value), a nested message changed, a field dropped. */
function oneMutation(desc: DescMessage, base: JsonObject, h: Hostility, depth: number): fc.Arbitrary<JsonObject> {
  const sharp: Hostility = { ...h, field: Math.max(h.field, 0.6) };
  const fields = desc.fields.filter((f) => fieldJson(f, sharp, 1) !== undefined);
  const replace = fc.constantFrom(...fields).chain((field) => {
    const current = base[field.name];
    const nestedMessage = field.fieldKind === "message" && !WELL_KNOWN.test(field.message.typeName) && isObject(current) && depth < 3;
    if (nestedMessage) {
      return fc.oneof(
        mutatedJson(field.message, current, h, depth + 1).map((v) => ({ ...base, [field.name]: v })),
        fieldJson(field, sharp, depth + 1)!.map((v) => ({ ...base, [field.name]: v })),
      );
    }
    const list = field.fieldKind === "list" && field.listKind === "message" && Array.isArray(current) && isObject(current[0]) && depth < 3;
    if (list) {
      const items = current as JsonObject[];
      return fc.oneof(
        mutatedJson(field.message, items[0]!, h, depth + 1).map((v) => ({ ...base, [field.name]: [v, ...items.slice(1)] })),
        fieldJson(field, sharp, depth + 1)!.map((v) => ({ ...base, [field.name]: v })),
      );
    }
    return fieldJson(field, sharp, depth + 1)!.map((v) => ({ ...base, [field.name]: v }));
  });
  const keys = Object.keys(base);
  const drop = keys.length === 0 ? replace : fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(base).filter(([key]) => key !== k)) as JsonObject);
  return fc.oneof({ weight: 6, arbitrary: replace }, { weight: 1, arbitrary: drop });
}

/** `base` (a valid request of `desc`, proto field names) with one or two fields changed, valid-shaped or hostile. */
export function mutatedJson(desc: DescMessage, base: JsonObject, h: Hostility, depth = 0): fc.Arbitrary<JsonObject> {
  const once = oneMutation(desc, base, h, depth);
  const mutated = fc.oneof({ weight: 3, arbitrary: once }, { weight: 1, arbitrary: once.chain((b) => oneMutation(desc, b, h, depth)) });
  if (h.unknownField <= 0 || depth > 0) return mutated;
  return fc.oneof(
    { weight: 8, arbitrary: mutated },
    { weight: 1, arbitrary: fc.tuple(mutated, UNKNOWN_KEYS, anyJson(1)).map(([m, k, v]) => Object.defineProperty({ ...m }, k, { value: v, enumerable: true })) },
  );
}

/** JSON text of mutated `bases`, damaged at `damage`. */
export function mutatedJsonText(desc: DescMessage, base: fc.Arbitrary<JsonObject>, h: Hostility, damage: number): fc.Arbitrary<string> {
  const good = base.chain((b) => fc.oneof({ weight: 1, arbitrary: fc.constant(b) }, { weight: 4, arbitrary: mutatedJson(desc, b, h) })).map((o) => JSON.stringify(o));
  if (damage <= 0) return good;
  return fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: good.chain((t) => fc.nat(t.length).map((n) => t.slice(0, n))) });
}

/** Protobuf bytes of mutated `bases` (a mutation that binary cannot carry leaves the base as it was), damaged at `damage`. */
export function mutatedBinary(desc: DescMessage, base: fc.Arbitrary<JsonObject>, h: Hostility, damage: number): fc.Arbitrary<Uint8Array> {
  const good = base.chain((b) =>
    fc.oneof({ weight: 1, arbitrary: fc.constant(b) }, { weight: 4, arbitrary: mutatedJson(desc, b, { ...h, unknownField: 0 }) }).map((m) => {
      const bytes = encoded(desc, m);
      return bytes.length > 0 || Object.keys(m).length === 0 ? bytes : encoded(desc, b);
    }),
  );
  if (damage <= 0) return good;
  return fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: good.chain((b) => fc.nat(Math.max(0, b.length - 1)).map((n) => b.subarray(0, n))) });
}
