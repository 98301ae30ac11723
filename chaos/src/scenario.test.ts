import { describe, expect, it } from "vitest";
import { DUPLICATE_WINDOW_MS } from "@provenance/shared";
import { MAX_OUTAGE_MS, buildScenario, describeFault, type Fault } from "./scenario.js";

const kinds = (faults: readonly { fault: Fault }[]) => faults.map((s) => (s.fault.kind === "kill-replica" ? `${s.fault.service}-${s.fault.index}` : s.fault.kind));

describe("buildScenario", () => {
  it("runs every fault of the issue in the default 10 minutes, the outage 3 minutes — past the duplicate window", () => {
    const s = buildScenario();
    expect(kinds(s.steps)).toEqual([
      "receipts-1",
      "receipts-2",
      "staleness-1",
      "staleness-2",
      "regeneration-1",
      "regeneration-2",
      "kill-nats-leader",
      "restart-postgres",
      "outage",
    ]);
    const outage = s.steps.at(-1)!.fault;
    expect(outage).toMatchObject({ kind: "outage", service: "receipts", downMs: MAX_OUTAGE_MS });
    expect(MAX_OUTAGE_MS).toBeGreaterThan(DUPLICATE_WINDOW_MS);
    // Starting, settling and checking fit in what is left of the ten minutes.
    expect(s.loadMs + s.settleMs).toBeLessThanOrEqual(10 * 60_000 - 20_000);
  });

  it("keeps the steps in order, apart, and done before the load ends with a cool-down to spare", () => {
    for (const minutes of [2, 2.5, 5, 10, 30]) {
      const s = buildScenario(minutes);
      const ats = s.steps.map((step) => step.atMs);
      expect(ats).toEqual([...ats].sort((a, b) => a - b));
      expect(ats[0]).toBeGreaterThan(0);
      const last = s.steps.at(-1)!;
      const lastEnd = last.atMs + (last.fault.kind === "outage" ? last.fault.downMs : 0);
      expect(lastEnd + s.coolDownMs).toBeLessThanOrEqual(s.loadMs);
      for (const step of s.steps) {
        if (step.fault.kind === "kill-replica") expect(step.fault.downMs).toBeGreaterThanOrEqual(1_000);
      }
    }
  });

  it("scales a short run down: a 2-minute run loads for 90 s with a shorter outage", () => {
    const s = buildScenario(2);
    expect(s.loadMs).toBe(90_000);
    const outage = s.steps.find((step) => step.fault.kind === "outage")!.fault as Extract<Fault, { kind: "outage" }>;
    expect(outage.downMs).toBeLessThan(DUPLICATE_WINDOW_MS);
    expect(outage.downMs).toBeGreaterThanOrEqual(30_000);
  });

  it("refuses lengths it cannot fit", () => {
    expect(() => buildScenario(1)).toThrow(/--minutes must be from 1.5 to 120, got 1/);
    expect(() => buildScenario(Number.NaN)).toThrow(/--minutes/);
    expect(() => buildScenario(121)).toThrow(/--minutes/);
  });

  it("says what each fault does", () => {
    expect(describeFault({ kind: "kill-replica", service: "receipts", index: 2, downMs: 5_000 })).toBe("kill -9 receipts-2, start it again after 5 s");
    expect(describeFault({ kind: "outage", service: "receipts", downMs: 180_000 })).toBe("kill -9 every receipts replica, all down for 180 s");
  });
});
