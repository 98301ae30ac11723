/**
 * The short chaos run of CI: the whole `npm run chaos` scenario in two minutes (load for 90 s; each replica killed,
 * the PROVENANCE leader node killed, an immediate PostgreSQL restart, every receipts replica down for ~30 s), against
 * the built services (turbo builds them before `npm test` runs this). The full run, with the 3-minute outage past the
 * duplicate window, is `npm run chaos`; its output is in docs/reliability.md.
 */
import { describe, expect, it } from "vitest";
import { runChaos } from "../src/run-chaos.js";

describe("npm run chaos, the 2-minute version", () => {
  it("loses nothing and doubles nothing through every fault", async () => {
    const lines: string[] = [];
    const result = await runChaos({ minutes: 2, say: (line) => lines.push(line) });
    // The whole report on failure names what was lost or doubled.
    expect(result.verdict.failed, result.report).toEqual([]);
    expect(result.verdict.ok).toBe(true);
    expect(result.report).toMatch(/^PASS: nothing lost, nothing doubled/m);

    // It really ran: load, every fault, and the outage hit a relay mid-batch.
    expect(result.acknowledged).toBeGreaterThan(500);
    expect(result.faults.map((f) => f.fault.kind)).toEqual([
      "kill-replica",
      "kill-replica",
      "kill-replica",
      "kill-replica",
      "kill-replica",
      "kill-replica",
      "kill-nats-leader",
      "restart-postgres",
      "outage",
    ]);
    const outage = result.faults.at(-1)!;
    expect(outage.midRelay).toBeDefined();
    const sections = new Set(result.verdict.checks.map((c) => c.section));
    expect([...sections]).toEqual(expect.arrayContaining(["receipts", "events on PROVENANCE", "projection (staleness vs receipts)", "outbox", "regeneration jobs"]));
    expect([...sections].some((s) => s.startsWith("one NATS node down"))).toBe(true);
  });
});
