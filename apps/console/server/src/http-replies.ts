/** Small replies of the console's server: text, JSON and redirects, never cached. */
import type { ServerResponse } from "node:http";

/** Sends `text` with `status`. */
export function sendText(res: ServerResponse, status: number, text: string, type = "text/plain; charset=utf-8", headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...headers, "content-type": type, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/** Sends `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  sendText(res, status, JSON.stringify(body), "application/json; charset=utf-8", headers);
}

/** A Connect-style error body (`{code, message}`), which the console's Connect clients read as that code. */
export function sendConnectError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string | string[]> = {}): void {
  sendJson(res, status, { code, message }, headers);
}

/** Redirects (303, so the next request is a GET) to `location`. */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...headers, location, "content-length": 0, "cache-control": "no-store" });
  res.end();
}
