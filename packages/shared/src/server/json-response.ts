/** JSON answers written straight to a Node response (probes, REST, fallbacks). */
import type * as http from "node:http";
import type * as http2 from "node:http2";

/** A response of either HTTP version. */
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;
/** A request of either HTTP version. */
export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;

/** Writes `body` as JSON with `status` and `extraHeaders`, and ends the response. */
export function sendJson(res: NodeResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body ?? {});
  const r = res as http.ServerResponse;
  r.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...extraHeaders });
  r.end(text);
}
