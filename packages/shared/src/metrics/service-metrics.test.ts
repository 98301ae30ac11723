import { describe, expect, it } from "vitest";
import { createMetricsRegistry, detectionLatencyHistogram, observeConsumers, observeOutbox } from "./service-metrics.js";

describe("service metrics", () => {
  it("reads the outbox backlog and consumer lag at scrape time, labelled by service", async () => {
    const registry = createMetricsRegistry("receipts");
    let backlog = 3;
    observeOutbox(registry, "receipts", { backlog: async () => backlog });
    observeConsumers(registry, { projection: { lag: async () => 7 } });
    detectionLatencyHistogram(registry).observe(0.12);
    let text = await registry.metrics();
    expect(text).toMatch(/outbox_backlog\{schema="receipts",service="receipts"\} 3/);
    expect(text).toMatch(/consumer_lag\{consumer="projection",service="receipts"\} 7/);
    expect(text).toMatch(/staleness_detection_latency_seconds_count\{service="receipts"\} 1/);
    expect(text).toMatch(/process_resident_memory_bytes\{service="receipts"\} \d+/);
    backlog = 0;
    text = await registry.metrics();
    expect(text).toMatch(/outbox_backlog\{schema="receipts",service="receipts"\} 0/);
  });

  it("keeps the last value when a source fails", async () => {
    const registry = createMetricsRegistry("staleness");
    let fail = false;
    observeConsumers(registry, { projection: { lag: async () => { if (fail) throw new Error("down"); return 2; } } });
    await registry.metrics();
    fail = true;
    expect(await registry.metrics()).toMatch(/consumer_lag\{consumer="projection",service="staleness"\} 2/);
  });
});
