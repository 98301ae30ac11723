export { migrateService, startServiceRuntime } from "./service-runtime.js";
export type { RunningService, ServiceRuntime, ServiceRuntimeOptions } from "./service-runtime.js";
