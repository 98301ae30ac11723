/** What a handler may know of, and do to, the connection its request arrived on. */
import * as http2 from "node:http2";
import { createContextKey } from "@connectrpc/connect";
import type { NodeRequest } from "./json-response.js";

/** The connection under one request, as the server sees it. */
export interface RequestTransport {
  /** The socket's remote address (never a header such as `x-forwarded-for`, which the client writes); "" when unknown. */
  readonly remoteAddress: string;
  /**
   * Ends the request's response at once, dropping what is queued for it: an HTTP/2 stream is reset with
   * ENHANCE_YOUR_CALM (gRPC and Connect clients read RESOURCE_EXHAUSTED), an HTTP/1.1 connection is destroyed. For a
   * response stream whose client stopped reading, which a write waiting for flow control would otherwise hold forever.
   */
  abort(): void;
}

const NO_TRANSPORT: RequestTransport = Object.freeze({ remoteAddress: "", abort: () => undefined });

/** Context key of the request's connection: `ctx.values.get(requestTransportKey)` in a handler (a no-op outside a server). */
export const requestTransportKey = createContextKey<RequestTransport>(NO_TRANSPORT, { description: "the request's connection" });

/** The {@link RequestTransport} of a Node request of either HTTP version. */
export function requestTransportOf(req: NodeRequest): RequestTransport {
  return {
    remoteAddress: req.socket?.remoteAddress ?? "",
    abort() {
      if ("stream" in req) {
        if (!req.stream.destroyed) req.stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      } else {
        req.socket.destroy();
      }
    },
  };
}
