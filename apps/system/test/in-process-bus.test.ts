import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IN_PROCESS_BUS_URL } from "@provenance/shared";
import { staticTokenSource } from "@provenance/shared/auth";
import { createTestDatabase, type TestDatabase } from "@provenance/shared/testing";
import { runDemo } from "../src/demo.js";
import { startSystem, type RunningSystem } from "../src/start-system.js";

let db: TestDatabase;
let system: RunningSystem;
const dataDir = mkdtempSync(join(tmpdir(), "provenance-bus-"));

beforeAll(async () => {
  db = await createTestDatabase("system_bus");
  system = await startSystem({
    // Only the local issuer lives here: the database is the test's, the bus in memory.
    dataDir,
    databaseUrl: db.url,
    // What npm start falls back to when there is no NATS_URL and no nats-server on the PATH.
    natsUrl: IN_PROCESS_BUS_URL,
    ports: { receipts: 0, staleness: 0, regeneration: 0 },
    consolePort: false,
    logLevel: "silent",
  });
});

afterAll(async () => {
  await system?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the system on the in-process event bus", () => {
  it("runs the whole demo story: receipts projected, staleness pushed, jobs consumed by the simulator", async () => {
    const lines: string[] = [];
    const result = await runDemo(system.urls, staticTokenSource(await system.issuer!.mintToken()), (l) => lines.push(l), "demo-bus");
    expect(system.natsUrl).toBe(IN_PROCESS_BUS_URL);
    expect(result.staleSegmentsAfterUpdate).toBe(12);
    expect(result.staleScenesAfterUpdate).toBe(3);
    expect(result.summary).toBe("12 segments across 3 scenes used anna_lora v1 — you are on v2");
    expect(result.jobs).toBe(12);
    expect(lines.join("\n")).toMatch(/Batch \S+: 12 succeeded, 0 failed, 0 inputs mismatches/);
    expect(result.staleSegmentsAfterRegeneration).toBe(0);
  });
});
