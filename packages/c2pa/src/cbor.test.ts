import { describe, expect, it } from "vitest";
import { encodeCbor, type CborValue } from "./cbor.js";

const hex = (v: CborValue) => Buffer.from(encodeCbor(v)).toString("hex");

describe("encodeCbor", () => {
  it("matches RFC 8949 Appendix A", () => {
    const vectors: [CborValue, string][] = [
      [0, "00"],
      [23, "17"],
      [24, "1818"],
      [100, "1864"],
      [1000, "1903e8"],
      [1000000, "1a000f4240"],
      [1000000000000, "1b000000e8d4a51000"],
      [-1, "20"],
      [-100, "3863"],
      [-1000, "3903e7"],
      ["", "60"],
      ["a", "6161"],
      ["IETF", "6449455446"],
      ["\u00fc", "62c3bc"],
      ["\u6c34", "63e6b0b4"],
      [new Uint8Array(0), "40"],
      [Uint8Array.of(1, 2, 3, 4), "4401020304"],
      [[], "80"],
      [[1, 2, 3], "83010203"],
      [[1, [2, 3], [4, 5]], "8301820203820405"],
      [new Map(), "a0"],
      [new Map([[1, 2], [3, 4]]), "a201020304"],
      [new Map<string, CborValue>([["a", 1], ["b", [2, 3]]]), "a26161016162820203"],
      [null, "f6"],
      [{ tag: 1, value: 1363896240 }, "c11a514b67b0"],
    ];
    for (const [value, expected] of vectors) expect(hex(value), JSON.stringify(value)).toBe(expected);
  });

  it("writes 25 items with a one-byte length and 256 bytes with a two-byte one", () => {
    expect(hex(Array.from({ length: 25 }, () => 1)).slice(0, 4)).toBe("9819");
    expect(hex(new Uint8Array(256)).slice(0, 6)).toBe("590100");
  });

  it("refuses what it cannot encode exactly", () => {
    expect(() => encodeCbor(1.5)).toThrow(/only integers/);
    expect(() => encodeCbor(2 ** 60)).toThrow(/only integers/);
  });
});
