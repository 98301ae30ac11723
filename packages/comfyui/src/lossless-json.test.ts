import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonSyntaxError, parseComfyJson, toPlainJson, type ComfyJson } from "./lossless-json.js";

/** `v` with each bigint as the number JSON.parse would have made of it. */
function asJsonParseWould(v: ComfyJson): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(asJsonParseWould);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asJsonParseWould(x)]));
  return v;
}

describe("parseComfyJson", () => {
  it("agrees with JSON.parse on any JSON text, except that unsafe integers come back exact", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(asJsonParseWould(parseComfyJson(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps every uint64 exact and leaves safe integers and fractions as numbers", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (n) => {
        const v = parseComfyJson(`{"seed": ${n}}`) as { seed: ComfyJson };
        expect(BigInt(v.seed as number | bigint)).toBe(n);
        expect(typeof v.seed).toBe(n <= BigInt(Number.MAX_SAFE_INTEGER) ? "number" : "bigint");
      }),
    );
    expect(parseComfyJson("[9007199254740991, 9007199254740992, -9007199254740993, 1.5, 1e3, 12345678901234567890.0]")).toEqual([
      9007199254740991,
      9007199254740992n,
      -9007199254740993n,
      1.5,
      1000,
      12345678901234567000,
    ]);
  });

  it("reads escapes, a byte-order mark and a __proto__ key as data", () => {
    const v = parseComfyJson('\uFEFF{"t": "a\\"b\\\\c\\u00e9\\n", "__proto__": {"x": 1}}') as Record<string, unknown>;
    expect(v.t).toBe('a"b\\cé\n');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["t", "__proto__"]);
  });

  it.each([
    ['{"a": 1,}', "invalid JSON at line 1 column 9: expected a string key in an object"],
    ['{"a": 1, "a": 2}', 'invalid JSON at line 1 column 10: duplicate key "a"'],
    ['{\n  "a": [1 2]\n}', "invalid JSON at line 2 column 11: expected , or ] in an array"],
    ['"abc', "invalid JSON at line 1 column 5: unterminated string"],
    ["01", "invalid JSON at line 1 column 2: unexpected text after the JSON value"],
    ["", "invalid JSON at line 1 column 1: unexpected end of input"],
    ["[".repeat(300), "invalid JSON at line 1 column 257: nested deeper than 256 levels"],
    ['"\\x"', "invalid JSON at line 1 column 2: invalid escape"],
  ])("refuses %j", (text, message) => {
    expect(() => parseComfyJson(text)).toThrow(JsonSyntaxError);
    expect(() => parseComfyJson(text)).toThrow(message);
  });

  it("turns bigints into decimal strings for JSON that cannot hold them", () => {
    expect(toPlainJson({ a: [18446744073709551615n, 1, "x", null] })).toEqual({ a: ["18446744073709551615", 1, "x", null] });
  });
});
