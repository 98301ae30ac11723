/** Request ids: taken from `x-request-id` when the caller sends a sane one, generated otherwise. */
import { randomUUID } from "node:crypto";
import { createContextKey } from "@connectrpc/connect";

/** The header carrying the request id, in and out. */
export const REQUEST_ID_HEADER = "x-request-id";

/** Context key of the current request's id: `ctx.values.get(requestIdKey)` in a handler ("" outside a server). */
export const requestIdKey = createContextKey<string>("", { description: "request id" });

const SANE = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** The id to use for a request: the caller's `x-request-id` if it is 1–128 plain characters, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SANE.test(value) ? value : randomUUID();
}
