/**
 * The bounds every request is held to before any rule table looks at it, found by walking the request's descriptor:
 * every string field (ids and names 512 bytes, free text 64 KiB), every repeated field and map, every Struct. A field
 * added to a proto tomorrow is bounded without anyone writing a rule; a rule table can only tighten these bounds,
 * never loosen them, because this check runs first and on its own.
 */
import { ScalarType, toJson, type DescField, type DescMessage, type JsonValue } from "@bufbuild/protobuf";
import { ListValueSchema, StructSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "../errors/index.js";
import type { Violation } from "./rule.js";
import { describeTextFault, quoted } from "./text-checks.js";

/** The bounds of {@link checkRequestLimits}. Field keys are proto field names (`note`) or full names (`provenance.v1.PublishVersionRequest.note`). */
export interface RequestLimits {
  /** Largest string field in UTF-8 bytes unless {@link fieldBytes} names it: ids, names, keys, labels. */
  readonly stringBytes: number;
  /** Bounds of particular string fields in UTF-8 bytes (free text); a full name wins over a plain field name. */
  readonly fieldBytes: Readonly<Record<string, number>>;
  /** Most entries of a repeated message field (a batch) unless {@link fieldEntries} names it. */
  readonly messageEntries: number;
  /** Most entries of a repeated scalar field (e.g. a selection of ids) or of a map. */
  readonly scalarEntries: number;
  /** Bounds of particular repeated fields, in entries. */
  readonly fieldEntries: Readonly<Record<string, number>>;
  /** Deepest nesting of a google.protobuf.Struct / Value / ListValue (the top object is level 1). */
  readonly structDepth: number;
  /** Largest google.protobuf.Struct / Value / ListValue, in bytes of its JSON form. */
  readonly structBytes: number;
}

/** Changes to {@link DEFAULT_REQUEST_LIMITS}; the field maps are merged into the defaults' maps. */
export type RequestLimitOverrides = Partial<RequestLimits>;

/**
 * What every service accepts unless it passes overrides: strings 512 bytes; `prompt_text` and `negative_prompt`
 * 64 KiB; the short free-text fields `note`, `description`, `comment`, `reason` 8 KiB; `page_token` 2 KiB;
 * 64 `loras`; 1,000 entries of any repeated message (a batch), 10,000 of a repeated scalar or a map; Structs
 * 32 levels deep and 64 KiB as JSON.
 */
export const DEFAULT_REQUEST_LIMITS: RequestLimits = Object.freeze({
  stringBytes: 512,
  fieldBytes: Object.freeze({
    prompt_text: 64 * 1024,
    negative_prompt: 64 * 1024,
    note: 8 * 1024,
    description: 8 * 1024,
    comment: 8 * 1024,
    reason: 8 * 1024,
    page_token: 2 * 1024,
  }),
  messageEntries: 1000,
  scalarEntries: 10_000,
  fieldEntries: Object.freeze({ loras: 64 }),
  structDepth: 32,
  structBytes: 64 * 1024,
});

/** {@link DEFAULT_REQUEST_LIMITS} with `overrides` applied (field maps merged, so one entry can be changed alone). */
export function requestLimits(overrides: RequestLimitOverrides = {}): RequestLimits {
  const d = DEFAULT_REQUEST_LIMITS;
  return Object.freeze({
    ...d,
    ...overrides,
    fieldBytes: Object.freeze({ ...d.fieldBytes, ...overrides.fieldBytes }),
    fieldEntries: Object.freeze({ ...d.fieldEntries, ...overrides.fieldEntries }),
  });
}

type Walk = (value: unknown, path: string) => Violation | undefined;

const JSON_TYPES: ReadonlySet<string> = new Set([StructSchema.typeName, ValueSchema.typeName, ListValueSchema.typeName]);
const JSON_SCHEMAS: Record<string, DescMessage> = {
  [StructSchema.typeName]: StructSchema,
  [ValueSchema.typeName]: ValueSchema,
  [ListValueSchema.typeName]: ListValueSchema,
};

function fail(field: string, message: string): Violation {
  return { field, message };
}

function pick(map: Readonly<Record<string, number>>, field: DescField, fallback: number): number {
  return map[`${field.parent.typeName}.${field.name}`] ?? map[field.name] ?? fallback;
}

/** A string within `maxBytes` of UTF-8, without NUL or lone surrogates; checked without copying it. */
function stringCheck(maxBytes: number): Walk {
  return (value, path) => {
    if (typeof value !== "string" || value === "") return undefined;
    // A UTF-16 unit is at most 3 UTF-8 bytes and at least 1, so most strings need no count at all.
    if (value.length * 3 > maxBytes) {
      // Past 16× the bound the exact count is not worth the scan: every unit is at least a byte.
      const huge = value.length > 16 * maxBytes;
      const bytes = huge ? value.length : Buffer.byteLength(value, "utf8");
      if (bytes > maxBytes) {
        const size = huge ? `at least ${bytes}` : `${bytes}`;
        return fail(path, `is ${size} bytes long (UTF-8); at most ${maxBytes} are allowed`);
      }
    }
    const fault = describeTextFault(value);
    return fault === undefined ? undefined : fail(path, fault);
  };
}

interface JsonBudget {
  bytes: number;
}

/** Checks a JSON value's depth, its strings and keys, and a running lower bound of its size; exact size is checked after. */
function walkJson(value: JsonValue, depth: number, path: string, limits: RequestLimits, budget: JsonBudget): Violation | undefined {
  if (depth > limits.structDepth) return fail(path, `nests deeper than ${limits.structDepth} levels; flatten it`);
  if (typeof value === "string") {
    budget.bytes += value.length + 2;
    const fault = describeTextFault(value);
    if (fault !== undefined) return fail(path, fault);
  } else if (Array.isArray(value)) {
    budget.bytes += 1 + value.length;
    for (let i = 0; i < value.length; i++) {
      const v = walkJson(value[i]!, depth + 1, `${path}[${i}]`, limits, budget);
      if (v) return v;
      if (budget.bytes > limits.structBytes) break;
    }
  } else if (typeof value === "object" && value !== null) {
    budget.bytes += 2;
    for (const key of Object.keys(value)) {
      budget.bytes += key.length + 4;
      const fault = describeTextFault(key);
      if (fault !== undefined) return fail(path, `has the key ${quoted(key)}, which ${fault}`);
      const v = walkJson(value[key]!, depth + 1, `${path}.${keyInPath(key)}`, limits, budget);
      if (v) return v;
      if (budget.bytes > limits.structBytes) break;
    }
  } else {
    if (typeof value === "number" && !Number.isFinite(value)) return fail(path, `must be a finite number; got ${value}`);
    budget.bytes += String(value).length;
  }
  return undefined;
}

function keyInPath(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key) ? key : `[${quoted(key)}]`;
}

/** A Struct, Value or ListValue (unboxed JSON or a message): depth, text, and its size as JSON. */
function jsonCheck(typeName: string, limits: RequestLimits): Walk {
  const schema = JSON_SCHEMAS[typeName]!;
  return (value, path) => {
    if (value === undefined) return undefined;
    let json: JsonValue;
    try {
      json = typeof value === "object" && value !== null && "$typeName" in value ? toJson(schema, value as never) : (value as JsonValue);
    } catch {
      return fail(path, "is not a JSON value (NaN and Infinity have no JSON form)");
    }
    const budget: JsonBudget = { bytes: 0 };
    const v = walkJson(json, 1, path, limits, budget);
    if (v) return v;
    const max = limits.structBytes;
    if (budget.bytes > max) return fail(path, `is at least ${budget.bytes} bytes as JSON; at most ${max} are allowed`);
    const bytes = Buffer.byteLength(JSON.stringify(json), "utf8");
    return bytes > max ? fail(path, `is ${bytes} bytes as JSON; at most ${max} are allowed`) : undefined;
  };
}

function entriesCheck(max: number, each: Walk | undefined): Walk {
  return (value, path) => {
    const list = (value as readonly unknown[] | undefined) ?? [];
    if (list.length > max) return fail(path, `has ${list.length} entries; at most ${max} are allowed`);
    if (each) {
      for (let i = 0; i < list.length; i++) {
        const v = each(list[i], `${path}[${i}]`);
        if (v) return v;
      }
    }
    return undefined;
  };
}

function mapCheck(max: number, key: Walk | undefined, each: Walk | undefined): Walk {
  return (value, path) => {
    const map = (value as Record<string, unknown> | undefined) ?? {};
    const keys = Object.keys(map);
    if (keys.length > max) return fail(path, `has ${keys.length} entries; at most ${max} are allowed`);
    for (const k of keys) {
      const bad = key?.(k, path);
      if (bad) return fail(path, `has a key that ${bad.message}`);
      const v = each?.(map[k], `${path}[${quoted(k)}]`);
      if (v) return v;
    }
    return undefined;
  };
}

/** Compiles the walk of one message type under one set of limits; recursive types refer to the cache lazily. */
class LimitCompiler {
  private readonly walks = new Map<string, Walk>();

  constructor(private readonly limits: RequestLimits) {}

  message(desc: DescMessage): Walk {
    const known = this.walks.get(desc.typeName);
    if (known) return known;
    let fields: { field: DescField; walk: Walk }[] | undefined;
    const walk: Walk = (value, path) => {
      if (value === undefined || value === null) return undefined;
      fields ??= desc.fields.flatMap((field) => {
        const w = this.field(field);
        return w ? [{ field, walk: w }] : [];
      });
      const msg = value as Record<string, unknown>;
      const prefix = path === "" ? "" : `${path}.`;
      for (const { field, walk: check } of fields) {
        let v: unknown;
        if (field.oneof) {
          const group = msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
          if (group?.case !== field.localName) continue;
          v = group.value;
        } else v = msg[field.localName];
        const violation = check(v, `${prefix}${field.name}`);
        if (violation) return violation;
      }
      return undefined;
    };
    this.walks.set(desc.typeName, walk);
    return walk;
  }

  private value(field: DescField, kind: "scalar" | "enum" | "message", scalar: ScalarType | undefined, message: DescMessage | undefined): Walk | undefined {
    if (kind === "scalar" && scalar === ScalarType.STRING) return stringCheck(pick(this.limits.fieldBytes, field, this.limits.stringBytes));
    if (kind !== "message" || !message) return undefined;
    if (JSON_TYPES.has(message.typeName)) return jsonCheck(message.typeName, this.limits);
    if (message.typeName === "google.protobuf.StringValue") {
      // Wrapper fields are unboxed to a plain string; a wrapper inside a list stays a message.
      const text = stringCheck(pick(this.limits.fieldBytes, field, this.limits.stringBytes));
      return (v, path) => (typeof v === "string" ? text(v, path) : text((v as { value?: string } | undefined)?.value, path));
    }
    return this.message(message);
  }

  private field(field: DescField): Walk | undefined {
    switch (field.fieldKind) {
      case "scalar":
        return this.value(field, "scalar", field.scalar, undefined);
      case "enum":
        return undefined;
      case "message":
        return this.value(field, "message", undefined, field.message);
      case "list": {
        const each = this.value(field, field.listKind, field.listKind === "scalar" ? field.scalar : undefined, field.listKind === "message" ? field.message : undefined);
        const fallback = field.listKind === "message" ? this.limits.messageEntries : this.limits.scalarEntries;
        return entriesCheck(pick(this.limits.fieldEntries, field, fallback), each);
      }
      case "map": {
        const key = field.mapKey === ScalarType.STRING ? stringCheck(pick(this.limits.fieldBytes, field, this.limits.stringBytes)) : undefined;
        const each = this.value(field, field.mapKind, field.mapKind === "scalar" ? field.scalar : undefined, field.mapKind === "message" ? field.message : undefined);
        return mapCheck(pick(this.limits.fieldEntries, field, this.limits.scalarEntries), key, each);
      }
    }
  }
}

const compilers = new WeakMap<RequestLimits, LimitCompiler>();

/** The first field of `message` (a message of `schema`) past `limits`, with its path under `prefix`, or undefined. */
export function checkRequestLimits(
  schema: DescMessage,
  message: unknown,
  limits: RequestLimits = DEFAULT_REQUEST_LIMITS,
  prefix = "",
): Violation | undefined {
  let compiler = compilers.get(limits);
  if (!compiler) {
    compiler = new LimitCompiler(limits);
    compilers.set(limits, compiler);
  }
  return compiler.message(schema)(message, prefix.endsWith(".") ? prefix.slice(0, -1) : prefix);
}

/** Throws INVALID_ARGUMENT naming the first field of `message` past `limits`. */
export function assertRequestLimits(schema: DescMessage, message: unknown, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): void {
  const v = checkRequestLimits(schema, message, limits);
  if (v) throw invalidArgument(v.field, v.message);
}
