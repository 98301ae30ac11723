/** Which wire format a call is answered in, for answers built differently for JSON (rpc/watch-responses.ts, reports). */
import type { HandlerContext } from "@connectrpc/connect";

/** Whether a request's content type asks for JSON (`application/connect+json`, `application/grpc+json`, …). */
export function wantsJson(contentType: string | null): boolean {
  return contentType !== null && /[+/]json\b/i.test(contentType);
}

/**
 * Whether a unary call is answered in JSON: its content type says so, or, for a Connect GET (which has no body and so
 * no content type), its `encoding` parameter is anything but `proto`.
 */
export function answersInJson(ctx: Pick<HandlerContext, "requestMethod" | "url" | "requestHeader">): boolean {
  if (ctx.requestMethod === "GET") return new URL(ctx.url, "http://localhost").searchParams.get("encoding") !== "proto";
  return wantsJson(ctx.requestHeader.get("content-type"));
}
