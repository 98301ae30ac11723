export { createServiceServer } from "./service-server.js";
export { LIVENESS_SERVICE } from "./health.js";
export type { ServiceServer, ServiceServerOptions } from "./service-server.js";
export type { RestErrorBody, RestRequest, RestRoute } from "./rest-routes.js";
export { REQUEST_ID_HEADER, requestIdKey } from "./request-id.js";
export { onShutdownSignal } from "./shutdown.js";
export { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS } from "./cors.js";
export type { CorsOptions } from "./cors.js";
