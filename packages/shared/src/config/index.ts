export { loadConfig, ConfigError, DEFAULT_PORTS, DEFAULT_RECEIPT_LOG_ORIGIN, LOG_LEVELS, SERVICE_DATABASE_ROLES } from "./service-config.js";
export type { ReceiptLogConfig, ServiceConfig, ServiceName, LogLevel } from "./service-config.js";
export { DEFAULT_SERVER_LIMITS, SERVER_LIMIT_VARIABLES, readServerLimits } from "./server-limits.js";
export type { ServerLimits } from "./server-limits.js";
