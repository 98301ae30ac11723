/** CORS for browsers on another origin (the web console): preflight answers and the headers Connect needs. */
import type * as http from "node:http";
import type * as http2 from "node:http2";

/** Which browser origins may call the service: a list of exact origins (`http://host:port`) or `"*"` for any. */
export interface CorsOptions {
  allowedOrigins: readonly string[] | "*";
}

/** Request headers a browser may send: the bearer token, Connect, gRPC-Web and the request id. */
export const CORS_ALLOWED_HEADERS = [
  "Authorization",
  "Connect-Protocol-Version",
  "Connect-Timeout-Ms",
  "Connect-Accept-Encoding",
  "Connect-Content-Encoding",
  "Content-Type",
  "X-User-Agent",
  "X-Request-Id",
  "Grpc-Timeout",
  "X-Grpc-Web",
] as const;

/** Response headers a browser script may read: gRPC(-Web) status trailers-in-headers and the request id. */
export const CORS_EXPOSED_HEADERS = ["Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "X-Request-Id"] as const;

/** Methods Connect (POST, and GET for side-effect-free RPCs) and the REST paths use. */
export const CORS_ALLOWED_METHODS = ["GET", "HEAD", "POST"] as const;

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 7200;

type CorsRequest = http.IncomingMessage | http2.Http2ServerRequest;
type CorsResponse = http.ServerResponse | http2.Http2ServerResponse;

/** The value of Access-Control-Allow-Origin for `origin`, or undefined when it is not allowed. */
export function allowedOriginFor(origin: string, cors: CorsOptions): string | undefined {
  if (cors.allowedOrigins === "*") return "*";
  return cors.allowedOrigins.includes(origin) ? origin : undefined;
}

/**
 * Adds the CORS headers to `res` and answers a preflight (OPTIONS with Access-Control-Request-Method) itself.
 * Returns true when the request has been answered; requests without an Origin header pass untouched.
 */
export function applyCors(req: CorsRequest, res: CorsResponse, cors: CorsOptions): boolean {
  const origin = req.headers.origin;
  const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
  if (cors.allowedOrigins !== "*") res.setHeader("vary", "Origin"); // the answer depends on the Origin header
  if (typeof origin !== "string" || origin === "") return false;
  const allowed = allowedOriginFor(origin, cors);
  if (allowed === undefined) {
    if (!preflight) return false; // the browser blocks the response itself; same-origin tools are unaffected
    const text = JSON.stringify({ code: "permission_denied", message: `origin ${origin} is not allowed: add it to CORS_ORIGINS` });
    (res as http.ServerResponse).writeHead(403, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
    (res as http.ServerResponse).end(text);
    return true;
  }
  res.setHeader("access-control-allow-origin", allowed);
  res.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS.join(", "));
  if (!preflight) return false;
  (res as http.ServerResponse).writeHead(204, {
    "access-control-allow-methods": CORS_ALLOWED_METHODS.join(", "),
    "access-control-allow-headers": CORS_ALLOWED_HEADERS.join(", "),
    "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
    "content-length": "0",
  });
  (res as http.ServerResponse).end();
  return true;
}
