/** Prometheus metrics every service exposes on /metrics beside the RPC histograms of the server. */
import { Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** A registry for one service: process metrics, and every series labelled with the service name. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Something with an outbox backlog (an OutboxRelay). */
export interface BacklogSource {
  backlog(): Promise<number>;
}

/** Something with a consumer lag (a running durable consumer). */
export interface LagSource {
  lag(): Promise<number>;
}

/** Adds `outbox_backlog{schema}`: events committed but not yet on JetStream, read at scrape time. */
export function observeOutbox(registry: Registry, schema: string, relay: BacklogSource): void {
  new Gauge({
    name: "outbox_backlog",
    help: "Events committed to the outbox and not yet relayed to JetStream",
    labelNames: ["schema"],
    registers: [registry],
    async collect() {
      try {
        this.set({ schema }, await relay.backlog());
      } catch {
        // The database is unreachable: /readyz says so; keep the last value.
      }
    },
  });
}

/** Adds `consumer_lag{consumer}`: messages pending or unacknowledged for each durable consumer, read at scrape time. */
export function observeConsumers(registry: Registry, consumers: Readonly<Record<string, LagSource>>): void {
  new Gauge({
    name: "consumer_lag",
    help: "Messages not yet processed by a durable JetStream consumer (pending plus unacknowledged)",
    labelNames: ["consumer"],
    registers: [registry],
    async collect() {
      for (const [name, consumer] of Object.entries(consumers)) {
        try {
          this.set({ consumer: name }, await consumer.lag());
        } catch {
          // NATS is unreachable: /readyz says so; keep the last value.
        }
      }
    },
  });
}

/** The `staleness_detection_latency_seconds` histogram: from an asset change's commit to its detection being published. */
export function detectionLatencyHistogram(registry: Registry): Histogram {
  return new Histogram({
    name: "staleness_detection_latency_seconds",
    help: "Time from an asset version change to the staleness detection event being enqueued",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
}
