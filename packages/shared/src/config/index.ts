export { loadConfig, ConfigError, DEFAULT_PORTS, LOG_LEVELS } from "./service-config.js";
export type { ServiceConfig, ServiceName, LogLevel } from "./service-config.js";
