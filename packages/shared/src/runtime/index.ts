export { migrateService, startServiceRuntime } from "./service-runtime.js";
export type { RunningService, ServiceRuntime, ServiceRuntimeOptions } from "./service-runtime.js";
export { runServiceMain } from "./service-main.js";
export type { ServiceMain } from "./service-main.js";
export { ephemeralPortsStart, freePort, portFree } from "./ports.js";
