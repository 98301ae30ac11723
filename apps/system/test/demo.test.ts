import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staticTokenSource } from "@provenance/shared/auth";
import { createTestDatabase, createTestNats, type TestDatabase, type TestNats } from "@provenance/shared/testing";
import { runDemo } from "../src/demo.js";
import { startSystem, type RunningSystem } from "../src/start-system.js";

let db: TestDatabase;
let nats: TestNats;
let system: RunningSystem;
const dataDir = mkdtempSync(join(tmpdir(), "provenance-demo-"));

beforeAll(async () => {
  db = await createTestDatabase("system_demo");
  nats = await createTestNats();
  system = await startSystem({
    // Only the local issuer lives here: the database and NATS are the test's.
    dataDir,
    databaseUrl: db.url,
    natsUrl: nats.url,
    eventNamespace: nats.namespace,
    ports: { receipts: 0, staleness: 0, regeneration: 0 },
    consolePort: false,
    logLevel: "silent",
  });
});

afterAll(async () => {
  await system?.stop();
  await nats?.cleanup();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("npm run demo", () => {
  it("tells the story with the exact counts, signed in as the local user", async () => {
    const lines: string[] = [];
    const token = staticTokenSource(await system.issuer!.mintToken());
    const result = await runDemo(system.urls, token, (l) => lines.push(l), "demo-ci");
    const text = lines.join("\n");
    expect(result.staleSegmentsAfterUpdate).toBe(12);
    expect(result.staleScenesAfterUpdate).toBe(3);
    expect(text).toContain("Staleness report: 12 stale segments in 3 scenes");
    expect(text).toContain("  12 segments across 3 scenes used anna_lora v1 — you are on v2");
    expect(text).toContain("Plan: 12 jobs");
    expect(text).toMatch(/Batch \S+: 12 succeeded, 0 failed, 0 inputs mismatches/);
    expect(text).toContain("Staleness report now: 0 stale segments — the project is fresh");
    // Side by side: only the LoRA (and so the hashes) differ.
    const differing = text.split("\n").filter((l) => l.startsWith("* ")).map((l) => l.slice(2).split(/\s{2,}/)[0]);
    expect(differing).toEqual(["lora 1", "inputs hash", "output hash"]);
    expect(result.staleSegmentsAfterRegeneration).toBe(0);

    // The second day: 3 legacy segments in scene 6 (60 of 63 complete), anna_lora v3, scene 1 pinned to v2.
    expect(result.legacySegments).toBe(3);
    expect(result.coverage).toMatchObject({ segments: 63, complete: 60, legacy: 3 });
    expect(result.coverage.completePercent).toBeCloseTo((60 / 63) * 100, 1);
    expect(text).toContain("Imported 3 legacy segments into scene 6 (made before receipts; inputs partly known); coverage: 60 of 63 segments have complete receipts (95.2%), 3 legacy");
    expect(result.pin).toMatchObject({ sceneId: "demo-ci.scene-1", pinnedSegments: 4, staleSegments: 8, staleScenes: 2 });
    expect(text).toContain(`anna_lora v3 published; scene 1 pinned to v2 ("approved takes, stay on v2", pin ${result.pin.pinId}): 4 segments pinned, 8 stale segments in 2 scenes`);
  });
});
