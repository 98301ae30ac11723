export { createLogger } from "./logger.js";
export type { Logger } from "pino";
export { currentRequestId, forwardRequestId, runWithRequestId } from "./request-context.js";
