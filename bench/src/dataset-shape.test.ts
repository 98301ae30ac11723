import { describe, expect, it } from "vitest";
import { parseBenchArgs } from "./bench-args.js";
import { Dataset, loraIdOf, modelIdOf, projectIdOf, shapeFor } from "./dataset-shape.js";
import { percentile } from "./latency-stats.js";

describe("the data set's shape", () => {
  it("has 200 projects of 20 scenes and a 100,000-segment project at a million receipts", () => {
    const s = shapeFor(1_000_000);
    expect(s.projects).toBe(200);
    expect(s.scenesPerProject).toBe(20);
    expect(s.bigProjectReceipts).toBe(100_000);
    const d = new Dataset(s);
    expect(d.projectSizes().big).toBeGreaterThan(10 * d.projectSizes().typical);
  });

  it("is heavy-tailed: a few LoRAs and models in most segments, 0-3 LoRAs each", () => {
    const d = new Dataset(shapeFor(20_000));
    let withTopLora = 0;
    let withTopModel = 0;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 5000; i++) {
      const r = d.receipt(i * 4);
      counts[r.loras.length]! += 1;
      if (r.loras.some((l) => l.asset.assetId === loraIdOf(0))) withTopLora += 1;
      if (r.model.assetId === modelIdOf(0)) withTopModel += 1;
      expect(r.projectId).toBe(r.segmentId.slice(0, projectIdOf(0).length));
    }
    expect(withTopLora / 5000).toBeGreaterThan(0.4);
    expect(withTopModel / 5000).toBeGreaterThan(0.5);
    expect(counts.every((c) => c > 0)).toBe(true);
  });

  it("gives popular assets several versions and uses old ones too", () => {
    const d = new Dataset(shapeFor(20_000));
    expect(d.asset(loraIdOf(0)).versions.length).toBeGreaterThanOrEqual(3);
    const versions = new Set<number>();
    for (let i = 0; i < 2000; i++) for (const l of d.receipt(i).loras) if (l.asset.assetId === loraIdOf(0)) versions.add(l.asset.version);
    expect(versions.size).toBeGreaterThan(1);
  });

  it("is the same on every run and has one segment per receipt", () => {
    const a = new Dataset(shapeFor(5000));
    const b = new Dataset(shapeFor(5000));
    expect(a.receipt(1234)).toEqual(b.receipt(1234));
    const ids = new Set(Array.from({ length: 5000 }, (_, i) => a.segmentIdOf(i)));
    expect(ids.size).toBe(5000);
  });
});

describe("bench arguments and percentiles", () => {
  it("parses --receipts after turbo's --, and rejects the unknown", () => {
    expect(parseBenchArgs(["--", "--receipts", "20000"]).receipts).toBe(20_000);
    expect(parseBenchArgs(["--receipts=500", "--no-docs"])).toMatchObject({ receipts: 500, updateDocs: false });
    expect(parseBenchArgs([]).receipts).toBe(1_000_000);
    expect(() => parseBenchArgs(["--receipts", "lots"])).toThrow(/positive integer/);
    expect(() => parseBenchArgs(["--fast"])).toThrow(/unknown option/);
    expect(parseBenchArgs(["--batch", "500", "--concurrency=2"])).toMatchObject({ batch: 500, concurrency: 2 });
    expect(() => parseBenchArgs(["--batch", "1001"])).toThrow(/at most 1000/);
  });

  it("takes nearest-rank percentiles", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
  });
});
