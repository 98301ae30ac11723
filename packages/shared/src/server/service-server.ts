/** The one server bootstrap of every service: Connect, gRPC and gRPC-Web over h2c and HTTP/1.1 on one port, plus health, REST and metrics. */
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Registry as DescRegistry } from "@bufbuild/protobuf";
import { createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { applyCors, type CorsOptions } from "./cors.js";
import { encodeStringsNatively } from "./native-utf8.js";
import { HealthState, healthService } from "./health.js";
import { registerReflection } from "./reflection.js";
import { runWithRequestId } from "../logging/request-context.js";
import { REQUEST_ID_HEADER, requestIdFrom, requestIdKey } from "./request-id.js";
import { RestRouter, restError, type RestRoute } from "./rest-routes.js";
import { endStreamsOn, observeRpcs, rpcDurationHistogram } from "./rpc-observer.js";

/** What a service hands to {@link createServiceServer}. */
export interface ServiceServerOptions {
  /** The service's short name, for logs. */
  name: string;
  logger: Logger;
  /** Registers the service implementations: `(router) => router.service(ReceiptService, handlers)`. */
  routes: (router: ConnectRouter) => void;
  /** Full names reported by grpc.health.v1.Health, e.g. "provenance.v1.ReceiptService". */
  services: string[];
  /** REST paths served next to the RPCs (JSON in and out). */
  rest?: RestRoute[];
  /**
   * Interceptors for every RPC, outermost first: pass `[errorInterceptor(logger), validationInterceptor(rules)]`
   * so validation failures (and everything else) go through the error mapping.
   */
  interceptors?: Interceptor[];
  /** Whether dependencies are reachable; drives /readyz and health status (default: always ready). */
  readiness?: () => Promise<boolean>;
  /** Descriptors served by server reflection; default: the files of the registered services and their imports. */
  registry?: DescRegistry;
  /** Where `rpc_duration_seconds` is registered and what /metrics serves (default: a registry of this server's own). */
  metricsRegistry?: Registry;
  /** Largest REST request body in bytes (default 1 MiB). */
  maxRestBodyBytes?: number;
  /** Lets browsers on these origins call every path (RPCs, REST, health); absent = no CORS headers at all. */
  cors?: CorsOptions;
  /** Responses at least this many bytes are compressed when the client accepts it (default: never). */
  compressMinBytes?: number;
}

/** A service's server; it listens only when told to. */
export interface ServiceServer {
  /** Starts accepting on `port` (0 = any free port) and `host` (default: all interfaces); resolves with the bound port and a URL to reach it. */
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /**
   * Drains: health turns NOT_SERVING, no new connections are accepted, response streams end, in-flight requests
   * may finish for `graceMs` (default 10 s); then handlers are aborted and every connection destroyed.
   */
  close(graceMs?: number): Promise<void>;
  /** The TCP server that routes each connection to HTTP/2 or HTTP/1.1. */
  readonly httpServer: net.Server;
}

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
const PEEK_TIMEOUT_MS = 10_000;

function sendJson(res: NodeResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body ?? {});
  const r = res as http.ServerResponse;
  r.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...extraHeaders });
  r.end(text);
}

async function readBody(req: NodeRequest, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw Object.assign(new Error("too large"), { tooLarge: true });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function urlFor(address: net.AddressInfo): string {
  const unspecified = address.address === "::" || address.address === "0.0.0.0";
  const host = unspecified ? "127.0.0.1" : address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates a service's server: its routes, grpc.health.v1, reflection, /healthz, /readyz, /metrics and REST on one port. */
export function createServiceServer(opts: ServiceServerOptions): ServiceServer {
  encodeStringsNatively();
  const logger = opts.logger;
  const health = new HealthState(new Set([...opts.services, Health.typeName]), opts.readiness ?? (async () => true), logger);
  const metrics = opts.metricsRegistry ?? new Registry();
  const histogram = rpcDurationHistogram(metrics);
  const drain = new AbortController(); // ends response streams when close() begins
  const shutdown = new AbortController(); // aborts handlers when the grace period is over
  const requestIds = new WeakMap<object, string>();
  const rest = new RestRouter(opts.rest ?? []);
  const maxBody = opts.maxRestBodyBytes ?? 1024 * 1024;

  const rpc = connectNodeAdapter({
    routes(router) {
      opts.routes(router);
      router.service(Health, healthService(health));
      registerReflection(router, opts.registry);
    },
    interceptors: [observeRpcs(logger, histogram), endStreamsOn(drain.signal), ...(opts.interceptors ?? [])],
    // Not connect's 1 KiB default: between services in one cluster gzip costs more CPU on both ends than the bytes it
    // saves (~20% of a 2 KiB GetSegmentProvenance; ~120 ms of a 2.3 MB report). ServiceConfig.compressMinBytes.
    compressMinBytes: opts.compressMinBytes ?? Number.POSITIVE_INFINITY,
    contextValues: (req) => createContextValues().set(requestIdKey, requestIds.get(req) ?? requestIdFrom(undefined)),
    shutdownSignal: shutdown.signal,
    fallback: (req, res) => sendJson(res as NodeResponse, 404, { code: "not_found", message: `no route for ${req.method} ${req.url}` }),
  });

  async function serveRest(req: NodeRequest, res: NodeResponse, url: URL): Promise<boolean> {
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
        const text = await readBody(req, maxBody).catch((err: { tooLarge?: boolean }) => {
          if (err.tooLarge) throw Object.assign(new Error(), { restStatus: 413 });
          throw err;
        });
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
      if ((err as { restStatus?: number }).restStatus === 413) {
        sendJson(res, 413, { code: "resource_exhausted", message: `body: at most ${maxBody} bytes are accepted` });
      } else {
        const { status, body } = restError(err, logger);
        sendJson(res, status, body);
      }
    }
    return true;
  }

  function handle(req: NodeRequest, res: NodeResponse): Promise<void> {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    requestIds.set(req, requestId);
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    return runWithRequestId(requestId, () => dispatch(req, res));
  }

  async function dispatch(req: NodeRequest, res: NodeResponse): Promise<void> {
    if (opts.cors && applyCors(req, res, opts.cors)) return;
    if (health.isDraining && req.httpVersionMajor === 1) res.setHeader("connection", "close");
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" || req.method === "HEAD") {
      if (url.pathname === "/healthz") return sendJson(res, 200, { status: "ok" });
      if (url.pathname === "/readyz") {
        const ready = !health.isDraining && (await health.ready());
        return sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready" });
      }
      if (url.pathname === "/metrics") {
        const text = await metrics.metrics();
        (res as http.ServerResponse).writeHead(200, { "content-type": metrics.contentType });
        (res as http.ServerResponse).end(text);
        return;
      }
    }
    if (await serveRest(req, res, url)) return;
    rpc(req, res);
  }

  const onRequest = (req: NodeRequest, res: NodeResponse) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err }, "request handling failed");
      if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "internal error" });
      else (res as http.ServerResponse).destroy();
    });
  };

  // Requests in flight per HTTP/1.1 connection, so draining can close the idle ones (an http.Server that never
  // listens itself does not track its connections, so closeIdleConnections() cannot be used).
  const h1Active = new Map<net.Socket, number>();
  const closeIdleH1 = () => {
    for (const [socket, active] of h1Active) if (active === 0) socket.destroy();
  };
  const h1 = http.createServer((req, res) => {
    const socket = req.socket;
    h1Active.set(socket, (h1Active.get(socket) ?? 0) + 1);
    res.once("close", () => {
      if (h1Active.has(socket)) h1Active.set(socket, Math.max(0, h1Active.get(socket)! - 1));
      if (health.isDraining) closeIdleH1();
    });
    onRequest(req, res);
  });
  h1.on("connection", (socket: net.Socket) => {
    h1Active.set(socket, 0);
    socket.once("close", () => h1Active.delete(socket));
  });
  const h2 = http2.createServer({}, onRequest);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", (err) => logger.debug({ err }, "http2 session error"));
    if (health.isDraining) session.close();
  });
  h2.on("sessionError", (err) => logger.debug({ err }, "http2 session error"));

  const sockets = new Set<net.Socket>();
  const unrouted = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    unrouted.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      unrouted.delete(socket);
    });
    // A reset before the protocol is known is not worth more than this; afterwards the http servers handle errors.
    socket.on("error", () => undefined);
    socket.setTimeout(PEEK_TIMEOUT_MS, () => {
      if (unrouted.has(socket)) socket.destroy();
    });
    let seen: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const h2Preface = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (h2Preface && seen.length < H2_PREFACE.length) return; // a prefix of the preface so far: wait for more
      socket.off("data", onData);
      socket.pause();
      socket.setTimeout(0);
      unrouted.delete(socket);
      socket.unshift(seen);
      if (h2Preface) {
        h2.emit("connection", socket); // the http2 session reads the unshifted bytes itself; resuming here breaks it
      } else {
        h1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });

  let closing: Promise<void> | undefined;

  async function drainAndClose(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    health.markDraining();
    await sleep(10); // lets Health.Watch streams send NOT_SERVING before streams are ended
    drain.abort();
    const closed = tcp.listening ? new Promise<void>((resolve) => tcp.close(() => resolve())) : Promise.resolve();
    for (const s of unrouted) s.destroy();
    for (const session of sessions) session.close();
    while (sockets.size > 0 && Date.now() < deadline) {
      closeIdleH1();
      await sleep(20);
    }
    if (sockets.size > 0) {
      logger.warn({ connections: sockets.size }, "grace period over, closing remaining connections");
      shutdown.abort();
      await sleep(10);
      for (const s of sockets) s.destroy();
    }
    shutdown.abort();
    await closed;
    logger.info({ service: opts.name }, "server closed");
  }

  return {
    httpServer: tcp,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        tcp.once("error", onError);
        const done = () => {
          tcp.off("error", onError);
          const address = tcp.address() as net.AddressInfo;
          health.markListening();
          resolve({ port: address.port, url: urlFor(address) });
        };
        if (host === undefined) tcp.listen(port, done);
        else tcp.listen(port, host, done);
      });
    },
    close(graceMs = 10_000) {
      closing ??= drainAndClose(graceMs);
      return closing;
    },
  };
}
