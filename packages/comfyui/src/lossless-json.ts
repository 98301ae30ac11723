/**
 * A strict JSON parser that keeps integers beyond 2^53 exact. ComfyUI seeds go up to 2^64 − 1, and `JSON.parse` would
 * round them to the nearest double (Node 20 has no reviver access to the source text), so a seed would silently change.
 */

/** A parsed JSON value; integer literals outside ±(2^53 − 1) are `bigint`, every other number is a `number`. */
export type ComfyJson = null | boolean | number | bigint | string | ComfyJson[] | ComfyJsonObject;

/** A parsed JSON object. */
export interface ComfyJsonObject {
  [key: string]: ComfyJson;
}

/** Text that is not one JSON value; `line` and `column` (1-based) say where. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    reason: string,
  ) {
    super(`invalid JSON at line ${line} column ${column}: ${reason}`);
    this.name = "JsonSyntaxError";
  }
}

/** How deep arrays and objects may nest; deeper input is refused rather than overflowing the stack. */
export const MAX_JSON_DEPTH = 256;

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** Parses `text` as exactly one JSON value (a leading byte-order mark is allowed); duplicate object keys are an error. */
export function parseComfyJson(text: string): ComfyJson {
  const parser = new Parser(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const value = parser.value(0);
  parser.whitespace();
  if (parser.pos < parser.text.length) parser.fail("unexpected text after the JSON value");
  return value;
}

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(reason: string, at = this.pos): never {
    const before = this.text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - before.lastIndexOf("\n");
    throw new JsonSyntaxError(line, column, reason);
  }

  whitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  value(depth: number): ComfyJson {
    this.whitespace();
    const c = this.text[this.pos];
    switch (c) {
      case "{":
        return this.object(depth + 1);
      case "[":
        return this.array(depth + 1);
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
      case undefined:
        return this.fail("unexpected end of input");
      default:
        if (c === "-" || (c >= "0" && c <= "9")) return this.number();
        return this.fail(`unexpected character ${JSON.stringify(c)}`);
    }
  }

  literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return value;
  }

  number(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) return this.fail("invalid number");
    this.pos += m[0].length;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    if (!Number.isFinite(n)) this.fail("number out of range", this.pos - m[0].length);
    return n;
  }

  string(): string {
    const t = this.text;
    let out = "";
    let start = ++this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail("unterminated string");
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(start, this.pos++);
        return out;
      }
      if (c < 0x20) this.fail("control character in a string");
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(start, this.pos);
      const e = t[this.pos + 1];
      if (e === "u") {
        const hex = t.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid \\u escape");
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        this.pos += 2;
      } else {
        this.fail("invalid escape");
      }
      start = this.pos;
    }
  }

  array(depth: number): ComfyJson[] {
    if (depth > MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.pos++;
    const items: ComfyJson[] = [];
    this.whitespace();
    if (this.text[this.pos] === "]") {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(this.value(depth));
      this.whitespace();
      const c = this.text[this.pos++];
      if (c === "]") return items;
      if (c !== ",") this.fail("expected , or ] in an array", this.pos - 1);
    }
  }

  object(depth: number): ComfyJsonObject {
    if (depth > MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    this.pos++;
    const obj: ComfyJsonObject = {};
    this.whitespace();
    if (this.text[this.pos] === "}") {
      this.pos++;
      return obj;
    }
    for (;;) {
      this.whitespace();
      if (this.text[this.pos] !== '"') this.fail("expected a string key in an object");
      const keyAt = this.pos;
      const key = this.string();
      if (Object.prototype.hasOwnProperty.call(obj, key)) this.fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
      this.whitespace();
      if (this.text[this.pos++] !== ":") this.fail("expected : after an object key", this.pos - 1);
      setOwn(obj, key, this.value(depth));
      this.whitespace();
      const c = this.text[this.pos++];
      if (c === "}") return obj;
      if (c !== ",") this.fail("expected , or } in an object", this.pos - 1);
    }
  }
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: ComfyJson | undefined): value is ComfyJsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `value` as plain JSON (what a protobuf Struct and RFC 8785 can carry): each `bigint` becomes its decimal string,
 * since a JSON number cannot hold it exactly.
 */
export function toPlainJson(value: ComfyJson): PlainJson {
  if (typeof value === "bigint") return value.toString(10);
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (isJsonObject(value)) {
    const out: { [key: string]: PlainJson } = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, toPlainJson(v));
    return out;
  }
  return value;
}

/** JSON without bigints. */
export type PlainJson = null | boolean | number | string | PlainJson[] | { [key: string]: PlainJson };

/** Sets `key` as an own enumerable property, so a "__proto__" key is data and never the object's prototype. */
export function setOwn<T>(obj: { [key: string]: T }, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
