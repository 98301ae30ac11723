import { afterAll, beforeAll, expect, it } from "vitest";
import { AssetKind, AssetService, StalenessService } from "@provenance/shared";
import { createTestEnvironment, type TestEnvironment } from "@provenance/shared/testing";
import { startStaleness, type RunningStaleness } from "../src/start.js";
import { sha } from "./staleness-harness.js";

/** `npm start` without NATS: the same service starts on the in-process bus (relay, consumer and watch hub included). */
let env: TestEnvironment;
let running: RunningStaleness;

beforeAll(async () => {
  env = await createTestEnvironment({ name: "staleness_bus" });
  running = await env.start("staleness", startStaleness, { NATS_URL: "memory://local", EVENT_NAMESPACE: "stalebus" });
});
afterAll(async () => {
  await env?.close();
});

it("publishes versions, rolls back and reports without NATS", async () => {
  const assets = env.client(AssetService, running.url);
  const staleness = env.client(StalenessService, running.url);
  await assets.registerAsset({ assetId: "bus-lora", kind: AssetKind.LORA, name: "bus" });
  const v1 = await assets.publishVersion({ assetId: "bus-lora", contentHash: sha("bus v1"), uploadedBy: "a" });
  expect(v1.version!.isCurrent).toBe(true);
  await assets.publishVersion({ assetId: "bus-lora", contentHash: sha("bus v2"), uploadedBy: "a" });
  await assets.setCurrentVersion({ assetId: "bus-lora", version: 1 });
  const report = await staleness.getStalenessReport({});
  expect(report.totalActiveSegments).toBe(0);
  expect(await running.projectionLag()).toBe(0);
});
