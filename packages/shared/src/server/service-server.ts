/**
 * The one server bootstrap of every service: Connect, gRPC and gRPC-Web over h2c and HTTP/1.1 on one port, plus
 * health, REST and metrics, with the request size and connection time bounds of {@link ServerLimits}. The parts live
 * beside it: connection-sniffer (the port), http1-server and http2-server (their bounds), rpc-adapter (the RPCs),
 * rest-dispatch, probes; this file wires them and drains them.
 */
import type * as http from "node:http";
import type * as net from "node:net";
import type { Registry as DescRegistry } from "@bufbuild/protobuf";
import { createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { Registry } from "prom-client";
import { readServerLimits, type ServerLimits } from "../config/index.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { runWithRequestId } from "../logging/request-context.js";
import { createConnectionSniffer } from "./connection-sniffer.js";
import { applyCors, type CorsOptions } from "./cors.js";
import { HealthState, healthService } from "./health.js";
import { createHttp1Server } from "./http1-server.js";
import { createHttp2Server } from "./http2-server.js";
import { sendJson, type NodeRequest, type NodeResponse } from "./json-response.js";
import { encodeStringsNatively } from "./native-utf8.js";
import { serveProbes } from "./probes.js";
import { registerReflection } from "./reflection.js";
import { REQUEST_ID_HEADER, requestIdFrom, requestIdKey } from "./request-id.js";
import { requestTransportKey, requestTransportOf } from "./request-transport.js";
import { createRestDispatch } from "./rest-dispatch.js";
import type { RestRoute } from "./rest-routes.js";
import { createRpcHandler } from "./rpc-adapter.js";
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
  /** Largest REST request body in bytes (default: `limits.maxRequestBytes`). */
  maxRestBodyBytes?: number;
  /**
   * Request size and connection time bounds; what is not given comes from the environment (`MAX_REQUEST_BYTES`,
   * `HEADERS_TIMEOUT_MS`, `REQUEST_TIMEOUT_MS`, `IDLE_TIMEOUT_MS`) or the defaults.
   */
  limits?: Partial<ServerLimits>;
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
  /** RPC requests whose stream has not closed yet (what shutdown would abort); 0 once every answered call is done. */
  openRequests(): number;
}

function urlFor(address: net.AddressInfo): string {
  const unspecified = address.address === "::" || address.address === "0.0.0.0";
  const host = unspecified ? "127.0.0.1" : address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The limits in force: those given, the rest from the environment. */
function limitsOf(given: Partial<ServerLimits> | undefined): ServerLimits {
  const merged = { ...readServerLimits(), ...given };
  return { ...merged, headersTimeoutMs: Math.min(merged.headersTimeoutMs, merged.requestTimeoutMs) };
}

/** Creates a service's server: its routes, grpc.health.v1, reflection, /healthz, /readyz, /metrics and REST on one port. */
export function createServiceServer(opts: ServiceServerOptions): ServiceServer {
  encodeStringsNatively();
  const logger = opts.logger;
  const limits = limitsOf(opts.limits);
  const health = new HealthState(new Set([...opts.services, Health.typeName]), opts.readiness ?? (async () => true), logger);
  const metrics = opts.metricsRegistry ?? new Registry();
  const drain = new AbortController(); // ends response streams when close() begins
  const shutdown = new AbortController(); // aborts handlers when the grace period is over
  const requestIds = new WeakMap<object, string>();
  const serveRest = createRestDispatch(opts.rest ?? [], opts.maxRestBodyBytes ?? limits.maxRequestBytes, logger);

  const rpc = createRpcHandler({
    routes(router) {
      opts.routes(router);
      router.service(Health, healthService(health));
      registerReflection(router, opts.registry);
    },
    interceptors: [observeRpcs(logger, rpcDurationHistogram(metrics)), endStreamsOn(drain.signal), ...(opts.interceptors ?? [])],
    maxRequestBytes: limits.maxRequestBytes,
    // Not connect's 1 KiB default: between services in one cluster gzip costs more CPU on both ends than the bytes it
    // saves (~20% of a 2 KiB GetSegmentProvenance; ~120 ms of a 2.3 MB report). ServiceConfig.compressMinBytes.
    compressMinBytes: opts.compressMinBytes ?? Number.POSITIVE_INFINITY,
    contextValues: (req) =>
      createContextValues().set(requestIdKey, requestIds.get(req) ?? requestIdFrom(undefined)).set(requestTransportKey, requestTransportOf(req)),
    shutdownSignal: shutdown.signal,
    fallback: (req, res) => sendJson(res, 404, { code: "not_found", message: `no route for ${req.method} ${truncatedUrl(req.url)}` }),
    logger,
  });

  async function dispatch(req: NodeRequest, res: NodeResponse): Promise<void> {
    if (opts.cors && applyCors(req, res, opts.cors)) return;
    if (health.isDraining && req.httpVersionMajor === 1) res.setHeader("connection", "close");
    const url = new URL(req.url ?? "/", "http://localhost");
    if (await serveProbes(req, res, url, health, metrics)) return;
    if (await serveRest(req, res, url)) return;
    rpc(req, res);
  }

  const onRequest = (req: NodeRequest, res: NodeResponse) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    requestIds.set(req, requestId);
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    runWithRequestId(requestId, () => dispatch(req, res)).catch((err: unknown) => {
      logger.error({ err }, "request handling failed");
      if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "internal error" });
      else (res as http.ServerResponse).destroy();
    });
  };

  const h1 = createHttp1Server(onRequest, limits, () => health.isDraining);
  const h2 = createHttp2Server(onRequest, limits, logger, () => health.isDraining);
  const port = createConnectionSniffer({ http1: (s) => h1.accept(s), http2: (s) => h2.accept(s) }, limits.headersTimeoutMs);
  const tcp = port.server;

  let closing: Promise<void> | undefined;

  async function drainAndClose(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    health.markDraining();
    await sleep(10); // lets Health.Watch streams send NOT_SERVING before streams are ended
    drain.abort();
    const closed = tcp.listening ? new Promise<void>((resolve) => tcp.close(() => resolve())) : Promise.resolve();
    port.destroyUnrouted();
    h2.closeSessions();
    while (port.sockets.size > 0 && Date.now() < deadline) {
      h1.closeIdle();
      await sleep(20);
    }
    if (port.sockets.size > 0) {
      logger.warn({ connections: port.sockets.size }, "grace period over, closing remaining connections");
      shutdown.abort();
      await sleep(10);
      for (const s of port.sockets) s.destroy();
    }
    shutdown.abort();
    h1.stop();
    await closed;
    logger.info({ service: opts.name }, "server closed");
  }

  return {
    httpServer: tcp,
    openRequests: () => rpc.openRequests(),
    listen(portNumber, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        tcp.once("error", onError);
        const done = () => {
          tcp.off("error", onError);
          const address = tcp.address() as net.AddressInfo;
          health.markListening();
          resolve({ port: address.port, url: urlFor(address) });
        };
        if (host === undefined) tcp.listen(portNumber, done);
        else tcp.listen(portNumber, host, done);
      });
    },
    close(graceMs = 10_000) {
      closing ??= drainAndClose(graceMs);
      return closing;
    },
  };
}

/** A request URL short enough to quote back. */
function truncatedUrl(url: string | undefined): string {
  const u = url ?? "/";
  return u.length > 200 ? `${u.slice(0, 200)}…` : u;
}
