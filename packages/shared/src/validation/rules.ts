/** The rules a request table is written in: presence, ids, text, hashes, numbers, enums, timestamps, lists, Structs, paging. */
import { ScalarType, toJson } from "@bufbuild/protobuf";
import { StructSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { elementTarget, shown, type Check, type Rule, type RuleTarget } from "./rule.js";
import { codePointCount, describeTextFault } from "./text-checks.js";

function fail(field: string, message: string) {
  return { field, message };
}

function need(target: RuleTarget, ok: boolean, rule: string, expected: string): void {
  if (!ok) throw new Error(`validation rule ${rule}() does not fit ${target.where}: it needs ${expected}`);
}

function isStringTarget(t: RuleTarget): boolean {
  return t.kind === "scalar" && t.scalar === ScalarType.STRING;
}

const DOUBLE_TYPES = new Set([ScalarType.DOUBLE, ScalarType.FLOAT]);
const INT_TYPES = new Set([
  ScalarType.INT32, ScalarType.UINT32, ScalarType.SINT32, ScalarType.FIXED32, ScalarType.SFIXED32,
  ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64,
]);

function describeRange(min: number | bigint | undefined, max: number | bigint | undefined): string {
  if (min !== undefined && max !== undefined) return `between ${min} and ${max}`;
  if (min !== undefined) return `at least ${min}`;
  return `at most ${max}`;
}

/** The field (a message, or a proto3 `optional` scalar) must be set; `inner` then checks its content. */
export function required(inner?: Rule): Rule {
  return {
    name: "required",
    bind(target) {
      need(target, target.kind === "message" || target.explicitPresence, "required", "a message field or a proto3 optional field");
      const check = inner?.bind(target);
      const name = target.message?.name;
      const what = name ? `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}` : "a value";
      return (value, path) => (value === undefined ? fail(path, `is required: send ${what}`) : check?.(value, path));
    },
  };
}

/** The field may be unset; when it is set, `inner` checks it. */
export function optional(inner: Rule): Rule {
  return {
    name: "optional",
    bind(target) {
      const check = inner.bind(target);
      return (value, path) => (value === undefined ? undefined : check(value, path));
    },
  };
}

/** Options of {@link id}. */
export interface IdOptions {
  /** Longest allowed id, in characters (default 200). */
  max?: number;
  /** Whether "" (not given) is accepted (default false). */
  allowEmpty?: boolean;
}

/** An identifier: non-empty, at most 200 characters, no whitespace or control characters. */
export function id(options: IdOptions = {}): Rule {
  const max = options.max ?? 200;
  return {
    name: "id",
    bind(target) {
      need(target, isStringTarget(target), "id", "a string field");
      return (value, path) => {
        const s = (value as string | undefined) ?? "";
        if (s === "") return options.allowEmpty ? undefined : fail(path, "is required: send a non-empty id");
        if (s.length > max) return fail(path, `is ${s.length} characters long; an id has at most ${max}`);
        const bad = /[\s\p{Cc}\p{Cf}]/u.exec(s);
        if (bad) {
          const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
          return fail(path, `must not contain whitespace or control characters; found U+${cp} at offset ${bad.index}`);
        }
        return undefined;
      };
    },
  };
}

/** An id that may be left empty (not given); when given, the {@link id} rules apply. */
export function optionalId(options: Omit<IdOptions, "allowEmpty"> = {}): Rule {
  return id({ ...options, allowEmpty: true });
}

/** Options of {@link text}. */
export interface TextOptions {
  /** Longest allowed text, in Unicode characters. */
  max: number;
  /** Whether "" is accepted (default true). */
  allowEmpty?: boolean;
  /** Reject line breaks and other control characters (names, labels). */
  singleLine?: boolean;
}

/**
 * Free text up to `max` characters; never NUL (PostgreSQL cannot store it) nor a lone surrogate. The request limits
 * (request-limits.ts) bound every string in bytes before this rule runs, so a `max` above them has no effect.
 */
export function text(options: TextOptions): Rule {
  const allowEmpty = options.allowEmpty ?? true;
  return {
    name: "text",
    bind(target) {
      need(target, isStringTarget(target), "text", "a string field");
      return (value, path) => {
        const s = (value as string | undefined) ?? "";
        if (s === "") return allowEmpty ? undefined : fail(path, "is required: send non-empty text");
        // Only a string of more UTF-16 units than the bound can have too many characters; counting does not copy it.
        if (s.length > options.max) {
          const chars = codePointCount(s);
          if (chars > options.max) return fail(path, `is ${chars} characters long; at most ${options.max} are allowed`);
        }
        const fault = describeTextFault(s);
        if (fault !== undefined) return fail(path, fault);
        if (options.singleLine && /\p{Cc}/u.test(s)) return fail(path, "must be a single line without control characters");
        return undefined;
      };
    },
  };
}

const HEX64 = /^[0-9a-f]{64}$/i;

function sha256Rule(allowEmpty: boolean): Rule {
  return {
    name: allowEmpty ? "optionalSha256" : "sha256",
    bind(target) {
      need(target, isStringTarget(target), "sha256", "a string field");
      return (value, path) => {
        const s = (value as string | undefined) ?? "";
        if (s === "") return allowEmpty ? undefined : fail(path, "is required: send the SHA-256 of the content as 64 hex digits");
        if (HEX64.test(s)) return undefined;
        if (/^[a-z0-9-]+:/i.test(s)) {
          return fail(path, `must be the bare 64 hex digits of a SHA-256, without an algorithm prefix like "sha256:"; got ${shown(s)}`);
        }
        return fail(path, `must be 64 hex digits (a SHA-256); got ${s.length} characters ${shown(s)}`);
      };
    },
  };
}

/** A SHA-256 content hash: exactly 64 hex digits, either case, no "sha256:" prefix. */
export function sha256(): Rule {
  return sha256Rule(false);
}

/** A SHA-256 content hash that may be left empty (not given). */
export function optionalSha256(): Rule {
  return sha256Rule(true);
}

/** Bounds of {@link finite} and {@link int}. */
export interface RangeOptions<T extends number | bigint = number> {
  min?: T;
  max?: T;
}

/** A double or float that is a real number (no NaN or ±Infinity), optionally within [min, max]. */
export function finite(options: RangeOptions = {}): Rule {
  return {
    name: "finite",
    bind(target) {
      need(target, target.kind === "scalar" && DOUBLE_TYPES.has(target.scalar!), "finite", "a double or float field");
      return (value, path) => {
        if (value === undefined) return undefined;
        const n = value as number;
        if (!Number.isFinite(n)) return fail(path, `must be a finite number; got ${shown(n)}`);
        if ((options.min !== undefined && n < options.min) || (options.max !== undefined && n > options.max)) {
          return fail(path, `must be ${describeRange(options.min, options.max)}; got ${n}`);
        }
        return undefined;
      };
    },
  };
}

/** An integer field (32- or 64-bit) within [min, max]. */
export function int(options: RangeOptions<number | bigint> = {}): Rule {
  return {
    name: "int",
    bind(target) {
      need(target, target.kind === "scalar" && INT_TYPES.has(target.scalar!), "int", "an integer field");
      const min = options.min === undefined ? undefined : BigInt(options.min);
      const max = options.max === undefined ? undefined : BigInt(options.max);
      return (value, path) => {
        if (value === undefined) return undefined;
        const n = BigInt(value as number | bigint | string);
        if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
          return fail(path, `must be ${describeRange(options.min, options.max)}; got ${n}`);
        }
        return undefined;
      };
    },
  };
}

/** Options of {@link enumValue}. */
export interface EnumOptions {
  /** The values accepted (default: every value the enum declares other than 0). */
  allowed?: readonly number[];
  /** Whether 0 (UNSPECIFIED) is rejected (default true). */
  required?: boolean;
}

/** An enum value the enum declares, never UNSPECIFIED (0) unless `required: false`, and within `allowed`. */
export function enumValue(options: EnumOptions = {}): Rule {
  return {
    name: "enumValue",
    bind(target) {
      need(target, target.kind === "enum", "enumValue", "an enum field");
      const desc = target.enum!;
      const allowed = options.allowed ?? desc.values.filter((v) => v.number !== 0).map((v) => v.number);
      for (const n of allowed) {
        if (!desc.value[n]) throw new Error(`validation rule enumValue() on ${target.where}: ${desc.typeName} has no value ${n}`);
      }
      const names = allowed.map((n) => desc.value[n]!.name).join(", ");
      const required = options.required ?? true;
      return (value, path) => {
        const n = (value as number | undefined) ?? 0;
        if (n === 0 && !allowed.includes(0)) return required ? fail(path, `is required: send one of ${names}`) : undefined;
        const known = desc.value[n];
        if (!known) return fail(path, `has the unknown value ${n}; expected one of ${names}`);
        if (!allowed.includes(n)) return fail(path, `must be one of ${names}; got ${known.name}`);
        return undefined;
      };
    },
  };
}

// Timestamp range of RFC 3339: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
const MIN_SECONDS = -62135596800n;
const MAX_SECONDS = 253402300799n;

/** A google.protobuf.Timestamp within the RFC 3339 range; `required` (default false) rejects an unset one. */
export function timestamp(options: { required?: boolean } = {}): Rule {
  return {
    name: "timestamp",
    bind(target) {
      need(target, target.message?.typeName === "google.protobuf.Timestamp", "timestamp", "a google.protobuf.Timestamp field");
      return (value, path) => {
        if (value === undefined) return options.required ? fail(path, "is required: send a timestamp (RFC 3339 in JSON)") : undefined;
        const ts = value as Timestamp;
        if (ts.seconds < MIN_SECONDS || ts.seconds > MAX_SECONDS) {
          return fail(path, "must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z");
        }
        if (ts.nanos < 0 || ts.nanos > 999_999_999) return fail(path, `has nanos ${ts.nanos}; expected 0 to 999999999`);
        return undefined;
      };
    },
  };
}

/** Options of {@link each}. */
export interface EachOptions {
  /** Most elements allowed. */
  max: number;
  /** Fewest elements required (default 0). */
  min?: number;
}

/** A repeated field: at most `max` (and at least `min`) elements, each checked by `rule` at `field[i]`. */
export function each(rule: Rule, options: EachOptions): Rule {
  return {
    name: "each",
    bind(target) {
      need(target, target.kind === "list", "each", "a repeated field");
      const check = rule.bind(elementTarget(target));
      return (value, path) => {
        const list = (value as readonly unknown[] | undefined) ?? [];
        if (list.length > options.max) return fail(path, `has ${list.length} entries; at most ${options.max} are allowed`);
        if (options.min !== undefined && list.length < options.min) {
          return fail(path, `has ${list.length} entries; at least ${options.min} ${options.min === 1 ? "is" : "are"} required`);
        }
        for (let i = 0; i < list.length; i++) {
          const v = check(list[i], `${path}[${i}]`);
          if (v) return v;
        }
        return undefined;
      };
    },
  };
}

/** A google.protobuf.Struct of at most `maxBytes` bytes as JSON; `required` (default false) rejects an unset one. */
export function struct(options: { maxBytes: number; required?: boolean }): Rule {
  return {
    name: "struct",
    bind(target) {
      need(target, target.message?.typeName === "google.protobuf.Struct", "struct", "a google.protobuf.Struct field");
      return (value, path) => {
        if (value === undefined) return options.required ? fail(path, "is required: send a JSON object") : undefined;
        // protobuf-es unboxes Struct fields to plain JSON objects; a Struct message can still reach here via `validate`.
        const json = (value as { $typeName?: string }).$typeName === StructSchema.typeName ? toJson(StructSchema, value as never) : value;
        const bytes = Buffer.byteLength(JSON.stringify(json), "utf8");
        if (bytes > options.maxBytes) return fail(path, `is ${bytes} bytes as JSON; at most ${options.maxBytes} are allowed`);
        return undefined;
      };
    },
  };
}

/** A list page size: 0 (the default size) up to `max` (default 1000). */
export function pageSize(options: { max?: number } = {}): Rule {
  const max = options.max ?? 1000;
  return {
    name: "pageSize",
    bind(target) {
      need(target, target.kind === "scalar" && INT_TYPES.has(target.scalar!), "pageSize", "an integer field");
      return (value, path) => {
        const n = Number(value ?? 0);
        return n < 0 || n > max ? fail(path, `must be between 0 and ${max} (0 = the default page size); got ${n}`) : undefined;
      };
    },
  };
}

/** A page token: empty (first page) or an opaque base64url token as returned in `next_page_token`. */
export function pageToken(options: { max?: number } = {}): Rule {
  const max = options.max ?? 1024;
  return {
    name: "pageToken",
    bind(target) {
      need(target, isStringTarget(target), "pageToken", "a string field");
      return (value, path) => {
        const s = (value as string | undefined) ?? "";
        if (s === "") return undefined;
        if (s.length > max || !/^[A-Za-z0-9_-]+={0,2}$/.test(s)) {
          return fail(path, "is not a token this service returned; send next_page_token as given, or empty for the first page");
        }
        return undefined;
      };
    },
  };
}

/** An escape hatch: `fn` returns what is wrong with a set value (e.g. "must be after 2020"), or undefined. */
export function custom(fn: (value: unknown) => string | undefined, name = "custom"): Rule {
  return {
    name,
    bind(): Check {
      return (value, path) => {
        const message = fn(value);
        return message === undefined ? undefined : fail(path, message);
      };
    },
  };
}
