/**
 * The Node request handler for the RPCs (Connect, gRPC, gRPC-Web): connect's router with the request limits, strict
 * JSON, bounded decompression, and connect's own error answers mapped to what the client did wrong.
 */
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { Logger } from "pino";
import { boundedCompressions } from "./bounded-compression.js";
import { answerClientErrors, explainBareRefusal } from "./client-error-answers.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** What {@link createRpcHandler} needs. */
export interface RpcHandlerOptions {
  /** Registers every service on the router. */
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Largest request message, after decompression (MAX_REQUEST_BYTES). */
  maxRequestBytes: number;
  /** Smallest response compressed. */
  compressMinBytes: number;
  /** Aborts every handler (the end of the drain grace period). */
  shutdownSignal: AbortSignal;
  contextValues: (req: NodeRequest) => ContextValues;
  /** Answers a path that is no RPC. */
  fallback: (req: NodeRequest, res: NodeResponse) => void;
  logger: Logger;
}

/** Writes a Connect-protocol error (JSON body) for a request refused before connect sees it. */
function refuse(res: NodeResponse, err: ConnectError): void {
  const body = errorToJsonBytes(err, {});
  const headers: Record<string, string | number> = { "content-type": "application/json", "content-length": body.byteLength };
  err.metadata.forEach((value, key) => (headers[key] = value));
  (res as http.ServerResponse).writeHead(codeToHttpStatus(err.code), headers);
  (res as http.ServerResponse).end(body);
}

/** Why a Connect GET cannot be read, for the cases connect answers INTERNAL: a `message` that is not base64. */
function malformedGet(req: NodeRequest): ConnectError | undefined {
  if (req.method !== "GET") return undefined;
  const query = new URL(req.url ?? "/", "http://localhost").searchParams;
  if (query.get("base64") !== "1") return undefined;
  try {
    base64Decode(query.get("message") ?? "");
    return undefined;
  } catch {
    return new ConnectError('message: is not base64 (a Connect GET with base64=1 carries the request as base64url in "message")', Code.InvalidArgument, {
      "x-error-field": "message",
    });
  }
}

/** A request's signal, aborted when the request's own signal is or at shutdown; `release` once the answer is out. */
interface TrackedSignal {
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * (Exported for its tests.) One listener on `shutdown` for every request in flight (a Set of their controllers), instead of one listener per
 * request on the shared signal: no MaxListenersExceededWarning past 10 open requests, and no O(n) listener removal
 * per finished request when thousands of streams are open.
 */
export function abortOnShutdown(shutdown: AbortSignal): { track(own: AbortSignal): TrackedSignal; readonly open: number } {
  const open = new Set<AbortController>();
  shutdown.addEventListener(
    "abort",
    () => {
      for (const c of open) c.abort(shutdown.reason);
      open.clear();
    },
    { once: true },
  );
  return {
    track(own) {
      const c = new AbortController();
      if (shutdown.aborted || own.aborted) {
        c.abort(shutdown.aborted ? shutdown.reason : own.reason);
        return { signal: c.signal, release: () => undefined };
      }
      // The request's own signal is aborted when its stream closes, however it ended: from then on shutdown has
      // nothing to abort, so the controller leaves the set even when the answer's promise never settles.
      const onOwn = () => {
        open.delete(c);
        c.abort(own.reason);
      };
      own.addEventListener("abort", onOwn, { once: true });
      open.add(c);
      return {
        signal: c.signal,
        release() {
          open.delete(c);
          own.removeEventListener("abort", onOwn);
        },
      };
    },
    get open() {
      return open.size;
    },
  };
}

/** Creates the handler every RPC request goes through; paths that are no RPC go to `fallback`. */
export function createRpcHandler(opts: RpcHandlerOptions): RpcHandler {
  const router = createConnectRouter({
    interceptors: opts.interceptors,
    readMaxBytes: opts.maxRequestBytes,
    compressMinBytes: opts.compressMinBytes,
    acceptCompression: boundedCompressions(),
    // connect ignores unknown JSON fields by default: a misspelt "seedd" would be dropped and defaults recorded.
    jsonOptions: { ignoreUnknownFields: false },
    // No shutdownSignal here: connect would add a listener to it per request, and past 10 open requests (a handful of
    // WatchStaleness streams) Node warns of a leak; each request's own signal is aborted by shutdown below instead.
  });
  const aborted = abortOnShutdown(opts.shutdownSignal);
  opts.routes(router);
  const paths = new Map<string, UniversalHandler>(router.handlers.map((h) => [h.requestPath, h]));

  const handle = (req: NodeRequest, res: NodeResponse): void => {
    const handler = paths.get((req.url ?? "").split("?", 2)[0]!);
    if (!handler) return opts.fallback(req, res);
    const early = malformedGet(req);
    if (early) return refuse(res, early);
    let uReq;
    try {
      uReq = universalRequestFromNodeRequest(req, res, undefined, opts.contextValues(req));
    } catch (err) {
      // Only a request without a Host header (or :authority) gets here.
      return refuse(res, new ConnectError(`the request names no host: ${(err as Error).message}`, Code.InvalidArgument));
    }
    const signal = aborted.track(uReq.signal);
    // Released when the response closes too (written, reset or cut): every request's controller leaves the set of
    // those shutdown would abort, so a server that has answered millions of calls holds none of them.
    res.once("close", () => signal.release());
    uReq = { ...uReq, signal: signal.signal };
    const facts = { inputType: handler.method.input.typeName };
    const refusal = {
      rpc: `${handler.service.typeName}/${handler.method.name}`,
      httpMethod: req.method ?? "",
      contentType: req.headers["content-type"],
      allowedMethods: handler.allowedMethods,
      streaming: handler.method.methodKind !== "unary",
    };
    handler(uReq)
      .then((uRes) => answerClientErrors(explainBareRefusal(uRes, refusal), facts))
      .then((uRes) => {
        // A request whose body was refused unread: let HTTP/1.1 close rather than read and drop the rest.
        if (req.httpVersionMajor === 1 && !req.complete && uRes.status !== 200) uRes.header?.set("connection", "close");
        return universalResponseToNodeResponse(uRes, res);
      })
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        opts.logger.warn({ err: reason, rpc: `${handler.service.typeName}/${handler.method.name}` }, "rpc answer not delivered");
        // Never leave a client waiting: an answer that could not be written is replaced, or the stream is cut.
        if (!res.headersSent && !res.destroyed) refuse(res, new ConnectError("internal error", Code.Internal));
        else res.destroy();
      })
      .finally(() => signal.release());
  };
  return Object.assign(handle, {
    openRequests: () => aborted.open,
  });
}

/** The handler of every RPC request, and how many requests it holds for shutdown to abort (those not yet closed). */
export type RpcHandler = ((req: NodeRequest, res: NodeResponse) => void) & { openRequests(): number };
