import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AssetKind, InputRole } from "@provenance/shared";
import { describe, expect, it } from "vitest";
import { enumLabel, formatDuration, formatNumber, formatTime, formatVersion, shortHash } from "./format.js";
import { renderProgressBar } from "./progress.js";

describe("format", () => {
  it("shortens hashes to 12 characters", () => {
    expect(shortHash("a".repeat(64))).toBe("aaaaaaaaaaaa");
    expect(shortHash("")).toBe("—");
  });

  it("formats durations for people", () => {
    expect(formatDuration(850)).toBe("850ms");
    expect(formatDuration(12_400n)).toBe("12.4s");
    expect(formatDuration(185_000)).toBe("3m 05s");
    expect(formatDuration(7_260_000)).toBe("2h 01m");
    expect(formatDuration(undefined)).toBe("—");
  });

  it("formats timestamps in UTC to the second", () => {
    expect(formatTime(timestampFromDate(new Date("2026-11-21T10:00:00.123Z")))).toBe("2026-11-21 10:00:00Z");
    expect(formatTime(undefined)).toBe("—");
  });

  it("labels enums in kebab case", () => {
    expect(enumLabel(AssetKind, AssetKind.SOURCE_IMAGE)).toBe("source-image");
    expect(enumLabel(InputRole, InputRole.UNSPECIFIED)).toBe("—");
  });

  it("formats numbers and versions", () => {
    expect(formatNumber(0.8)).toBe("0.8");
    expect(formatNumber(7)).toBe("7");
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatVersion(2)).toBe("v2");
    expect(formatVersion(0)).toBe("—");
  });

  it("draws a progress bar", () => {
    expect(renderProgressBar(0, 4)).toBe(`[${"-".repeat(30)}] 0/4`);
    expect(renderProgressBar(2, 4, "2 running")).toBe(`[${"#".repeat(15)}${"-".repeat(15)}] 2/4  2 running`);
    expect(renderProgressBar(0, 0)).toBe(`[${"#".repeat(30)}] 0/0`);
  });
});
