/** Serving the REST routes: match, read a bounded JSON body, call the handler, answer with JSON or a mapped error. */
import type { Logger } from "pino";
import { sendJson, type NodeRequest, type NodeResponse } from "./json-response.js";
import { RestRouter, nonJsonBodyRefusal, restError, type RestRoute } from "./rest-routes.js";

class BodyTooLarge extends Error {}

/** Reads the whole body as UTF-8, refusing (without reading further) one past `maxBytes` or one whose Content-Length says so. */
async function readBody(req: NodeRequest, maxBytes: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > maxBytes) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Returns the REST dispatcher: `(req, res, url)` answers and resolves true when a route matched the path (405 when
 * only the method is wrong), false when no route did. POST bodies must be JSON of at most `maxBodyBytes`
 * (MAX_REQUEST_BYTES): larger ones are RESOURCE_EXHAUSTED (413) and, on HTTP/1.1, close the connection instead of
 * being read to the end.
 */
export function createRestDispatch(
  routes: readonly RestRoute[],
  maxBodyBytes: number,
  logger: Logger,
): (req: NodeRequest, res: NodeResponse, url: URL) => Promise<boolean> {
  const rest = new RestRouter(routes);
  return async (req, res, url) => {
    let match;
    try {
      match = rest.match(req.method ?? "GET", url.pathname);
    } catch (err) {
      const { status, body } = restError(err, logger);
      sendJson(res, status, body);
      return true;
    }
    if (match.kind === "none") return false;
    if (match.kind === "method-not-allowed") {
      sendJson(res, 405, { code: "unimplemented", message: `${req.method} is not allowed here; use ${match.allow.join(", ")}` }, { allow: match.allow.join(", ") });
      return true;
    }
    try {
      let body: unknown;
      if (req.method === "POST") {
        // A body declared too large is refused as such (413, by readBody) whatever its type; any other must be JSON.
        const tooLarge = Number(req.headers["content-length"] ?? Number.NaN) > maxBodyBytes;
        const refused = tooLarge ? undefined : nonJsonBodyRefusal(req.headers);
        if (refused) {
          sendJson(res, refused.status, refused.body, req.httpVersionMajor === 1 ? { connection: "close" } : {});
          return true;
        }
        const text = await readBody(req, maxBodyBytes);
        if (text.trim() !== "") {
          try {
            body = JSON.parse(text);
          } catch {
            sendJson(res, 400, { code: "invalid_argument", message: "body: must be JSON" });
            return true;
          }
        }
      }
      const result = await match.route.handler({ params: match.params, query: url.searchParams, body, headers: req.headers });
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        const close: Record<string, string> = req.httpVersionMajor === 1 ? { connection: "close" } : {};
        sendJson(res, 413, { code: "resource_exhausted", message: `body: at most ${maxBodyBytes} bytes are accepted (MAX_REQUEST_BYTES)` }, close);
      } else {
        const { status, body } = restError(err, logger);
        sendJson(res, status, body);
      }
    }
    return true;
  };
}
