/**
 * The request id of the work in progress, carried through async calls: set by the server per
 * request and by consumers per event; read by the logger, the outbox and outgoing RPC clients.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Interceptor } from "@connectrpc/connect";

const storage = new AsyncLocalStorage<string>();

/** Runs `fn` with `requestId` as the current request id. */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run(requestId, fn);
}

/** The current request id, or undefined outside a request or event. */
export function currentRequestId(): string | undefined {
  return storage.getStore();
}

/** A client interceptor that sends the current request id as `x-request-id`, so one id follows a request across services. */
export const forwardRequestId: Interceptor = (next) => async (req) => {
  const id = currentRequestId();
  if (id && !req.header.has("x-request-id")) req.header.set("x-request-id", id);
  return next(req);
};
