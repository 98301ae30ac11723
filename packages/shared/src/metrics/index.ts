export { createMetricsRegistry, detectionLatencyHistogram, observeConsumers, observeOutbox } from "./service-metrics.js";
export type { BacklogSource, LagSource } from "./service-metrics.js";
