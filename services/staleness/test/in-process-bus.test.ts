import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AssetKind, AssetService, StalenessService, createLogger, loadConfig } from "@provenance/shared";
import { createTestDatabase, type TestDatabase } from "@provenance/shared/testing";
import { startStaleness, type RunningStaleness } from "../src/start.js";
import { sha } from "./staleness-harness.js";

/** `npm start` without NATS: the same service starts on the in-process bus (relay, consumer and watch hub included). */
let db: TestDatabase;
let running: RunningStaleness;

beforeAll(async () => {
  db = await createTestDatabase("staleness_bus");
  const config = loadConfig("staleness", {
    DATABASE_URL: db.url,
    NATS_URL: "memory://local",
    EVENT_NAMESPACE: "stalebus",
    PORT: "0",
    HOST: "127.0.0.1",
  });
  running = await startStaleness(config, createLogger("staleness", "silent"));
});
afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

it("publishes versions, rolls back and reports without NATS", async () => {
  const transport = createGrpcTransport({ baseUrl: running.url });
  const assets = createClient(AssetService, transport);
  const staleness = createClient(StalenessService, transport);
  await assets.registerAsset({ assetId: "bus-lora", kind: AssetKind.LORA, name: "bus" });
  const v1 = await assets.publishVersion({ assetId: "bus-lora", contentHash: sha("bus v1"), uploadedBy: "a" });
  expect(v1.version!.isCurrent).toBe(true);
  await assets.publishVersion({ assetId: "bus-lora", contentHash: sha("bus v2"), uploadedBy: "a" });
  await assets.setCurrentVersion({ assetId: "bus-lora", version: 1 });
  const report = await staleness.getStalenessReport({});
  expect(report.totalActiveSegments).toBe(0);
  expect(await running.projectionLag()).toBe(0);
});
