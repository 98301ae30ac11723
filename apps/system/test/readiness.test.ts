import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@provenance/shared/testing";
import { freePort } from "@provenance/shared";
import { findNatsServer, startPrivateNats, type PrivateNats } from "../src/private-nats.js";
import { startSystem, type RunningSystem } from "../src/start-system.js";

let db: TestDatabase;
let nats: PrivateNats;
let natsPort: number;
let system: RunningSystem;
const store = mkdtempSync(join(tmpdir(), "provenance-readiness-"));

beforeAll(async () => {
  db = await createTestDatabase("system_ready");
  natsPort = await freePort(0);
  nats = await startPrivateNats(findNatsServer()!, natsPort, store);
  system = await startSystem({
    dataDir: store,
    databaseUrl: db.url,
    natsUrl: nats.url,
    ports: { receipts: 0, staleness: 0, regeneration: 0 },
    consolePort: false,
    simulator: false,
    logLevel: "silent",
  });
});

afterAll(async () => {
  await system?.stop();
  await nats?.stop();
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/postgres" });
  await admin.connect();
  await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`).catch(() => undefined);
  await admin.end();
  await db?.drop();
  rmSync(store, { recursive: true, force: true });
});

async function readiness(): Promise<number[]> {
  return Promise.all(Object.values(system.urls).map(async (url) => (await fetch(`${url}/readyz`)).status));
}

async function until(want: number, timeoutMs = 20_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await readiness();
    if (got.every((s) => s === want) || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("/readyz follows the dependencies", () => {
  it("is 503 while NATS is down and 200 again once it is back", async () => {
    expect(await readiness()).toEqual([200, 200, 200]);
    await nats.stop();
    expect(await until(503)).toEqual([503, 503, 503]);
    nats = await startPrivateNats(findNatsServer()!, natsPort, store);
    expect(await until(200)).toEqual([200, 200, 200]);
  });

  it("is 503 while the database refuses connections, and /healthz stays 200", async () => {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL ?? "postgres://root@127.0.0.1:5432/postgres" });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [db.name]);
      expect(await until(503)).toEqual([503, 503, 503]);
      const health = await Promise.all(Object.values(system.urls).map(async (url) => (await fetch(`${url}/healthz`)).status));
      expect(health).toEqual([200, 200, 200]);
      await admin.query(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`);
      expect(await until(200)).toEqual([200, 200, 200]);
    } finally {
      await admin.end();
    }
  });
});
