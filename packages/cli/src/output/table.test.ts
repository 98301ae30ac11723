import { describe, expect, it } from "vitest";
import { renderFields, renderTable } from "./table.js";

describe("renderTable", () => {
  it("aligns columns to the widest cell, numbers to the right, with no trailing spaces", () => {
    const text = renderTable(
      [{ header: "SEGMENT" }, { header: "COUNT", align: "right" }, { header: "NOTE" }],
      [
        ["seg-1", "3", "short"],
        ["segment-long-id", "12", ""],
      ],
    );
    expect(text).toBe(
      ["SEGMENT          COUNT  NOTE", "seg-1                3  short", "segment-long-id     12", ""].join("\n"),
    );
  });

  it("counts a multi-byte character as one column", () => {
    const text = renderTable([{ header: "A" }, { header: "B" }], [["—", "x"], ["ab", "y"]]);
    expect(text.split("\n")).toEqual(["A   B", "—   x", "ab  y", ""]);
  });

  it("prints the empty message instead of a lone header", () => {
    expect(renderTable([{ header: "A" }], [], "nothing here")).toBe("nothing here\n");
    expect(renderTable([{ header: "A" }], [])).toBe("A\n");
  });
});

describe("renderFields", () => {
  it("aligns values after the labels and continues multi-line values under them", () => {
    const text = renderFields([
      ["seed", "42"],
      ["loras", "1. a\n2. b"],
      ["negative prompt", ""],
    ]);
    expect(text).toBe(["seed:             42", "loras:            1. a", "                  2. b", "negative prompt:", ""].join("\n"));
  });
});
