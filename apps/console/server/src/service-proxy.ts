/**
 * The same-origin proxy `/svc/<service>/…`: each call goes to the service with the signed-in user's token as
 * `authorization: Bearer …` and only the headers the RPC protocols need — never the browser's cookies, its own
 * authorization header or anything else. Streams pass through both ways (WatchStaleness).
 */
import * as http from "node:http";
import * as https from "node:https";
import { sendConnectError } from "./http-replies.js";

/**
 * The request headers passed on: what Connect, gRPC-Web and gRPC need to frame, encode and time a call, and the
 * request id. Everything else of the browser's (cookies, authorization, origin, …) stays here.
 */
export const FORWARDED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  "accept",
  "accept-encoding",
  "content-encoding",
  "content-length",
  "content-type",
  "connect-accept-encoding",
  "connect-content-encoding",
  "connect-protocol-version",
  "connect-timeout-ms",
  "grpc-accept-encoding",
  "grpc-encoding",
  "grpc-timeout",
  "x-grpc-web",
  "x-user-agent",
  "x-request-id",
]);

// Hop-by-hop headers are not forwarded by a proxy (RFC 9110 §7.6.1); a service never sets cookies on the console.
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "set-cookie"]);

function responseHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (!DROPPED_RESPONSE_HEADERS.has(k.toLowerCase()) && v !== undefined) out[k] = v;
  return out;
}

/** Pipes one request to `base` + `rest` as `token`'s bearer. */
export function proxyCall(req: http.IncomingMessage, res: http.ServerResponse, base: string, rest: string, name: string, token: string): void {
  const target = new URL(base.replace(/\/+$/, "") + rest);
  const headers: http.OutgoingHttpHeaders = { host: target.host, authorization: `Bearer ${token}` };
  for (const [k, v] of Object.entries(req.headers)) if (FORWARDED_REQUEST_HEADERS.has(k) && v !== undefined) headers[k] = v;
  const send = target.protocol === "https:" ? https.request : http.request;
  const upstream = send(target, { method: req.method, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, responseHeaders(up.headers));
    res.flushHeaders();
    up.pipe(res);
  });
  upstream.on("error", (err) => {
    if (res.headersSent) return res.destroy();
    sendConnectError(res, 502, "unavailable", `the ${name} service at ${base} is not reachable (${err.message}): is it running?`);
  });
  res.on("close", () => upstream.destroy()); // the browser went away (a closed WatchStaleness, a new page)
  req.pipe(upstream);
}
