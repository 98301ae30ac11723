/**
 * The console's server: the built app (static files with an SPA fallback), `/config.json` naming the services,
 * sign-in (`/auth/*`: the session is kept here, the browser holds only an httpOnly cookie with a random id) and a
 * same-origin proxy `/svc/<service>/…` that presents the signed-in user's token to each service and nothing else of
 * the browser's. No cross-origin access: no CORS headers, preflights refused, a request from another origin 403.
 */
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConsoleC2pa, type ConsoleC2paOptions } from "./c2pa-sign.js";
import { buildComfyImport, ComfyImportRefusal, MAX_COMFYUI_BODY_BYTES, readJsonBody } from "./comfyui-import.js";
import { sendConnectError, sendJson, sendText } from "./http-replies.js";
import { ReceiptLogChecker } from "./receipt-log-check.js";
import { proxyCall } from "./service-proxy.js";
import { SignInRoutes } from "./sign-in-routes.js";
import type { ConsoleSignIn } from "./sign-in-settings.js";
import { checkBuilt, serveFile } from "./static-files.js";

export { oidcSettingsFromEnv, DEFAULT_OIDC_SCOPES, SignInSettingsError } from "./sign-in-settings.js";
export type { ConsoleSignIn, ForwardedToken, LocalSignIn, OidcSignIn } from "./sign-in-settings.js";
export type { SessionInfo } from "./sign-in-routes.js";
export { FORWARDED_REQUEST_HEADERS } from "./service-proxy.js";
export { C2PA_SUMMARY_HEADER, c2paOptionsFromEnv, DEFAULT_C2PA_MAX_BYTES } from "./c2pa-sign.js";
export type { C2paSummary, ConsoleC2paOptions, ConsoleC2paSigner } from "./c2pa-sign.js";

/** The services the console calls, by the names config.json uses. */
export const SERVICE_NAMES = ["receipts", "staleness", "regeneration"] as const;

/** Base URLs of the services, as config.json names them. */
export type ConsoleServices = Record<(typeof SERVICE_NAMES)[number], string>;

/** Options of {@link serveConsole}. */
export interface ServeConsoleOptions {
  /** Port to listen on; 0 = any free port (default 7100). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** The Vite build output (default apps/console/dist). */
  distDir?: string;
  /** Where the services are; without it no config.json is served and the app uses its defaults. */
  servicesConfig?: ConsoleServices;
  /**
   * Proxy /svc/<name>/… to the services so the browser stays same-origin (default true); without it the browser calls
   * the services itself and must bring its own token (the console then cannot sign in for it).
   */
  proxy?: boolean;
  /** How people sign in: as the local issuer's user, or through OpenID Connect; without it, nobody can (proxy: 401). */
  signIn?: ConsoleSignIn;
  /**
   * The receipt log's verifier key (`<name>+<id>+<key>`, CONSOLE_RECEIPT_LOG_KEY) that `/verify/receipts/<id>` trusts;
   * without it, the first key the receipts service serves is kept for the life of the server.
   */
  receiptLogKey?: string;
  /** Content Credentials on the receipt panel (`POST /c2pa/sign`): how to sign; without it there is no such route. */
  c2pa?: ConsoleC2paOptions;
}

/** A running console server. */
export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

const defaultDist = () => fileURLToPath(new URL("../../dist", import.meta.url));

/** Whether a request comes from a page of another origin (its `Origin`, or the browser's `Sec-Fetch-Site`). */
function crossOrigin(req: http.IncomingMessage): boolean {
  if (req.headers["sec-fetch-site"] === "cross-site") return true;
  const origin = req.headers.origin;
  if (origin === undefined || origin === "null") return origin === "null";
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** Starts the console's server and resolves once it listens. */
export async function serveConsole(options: ServeConsoleOptions = {}): Promise<RunningConsole> {
  const distDir = resolve(options.distDir ?? defaultDist());
  const services = options.servicesConfig;
  const useProxy = options.proxy ?? true;
  await checkBuilt(distDir);
  const browserConfig = services ? Object.fromEntries(SERVICE_NAMES.map((n) => [n, useProxy ? `/svc/${n}` : services[n]])) : undefined;
  const httpsRedirect = options.signIn?.mode === "oidc" && new URL(options.signIn.redirectUri).protocol === "https:";
  const signIn = new SignInRoutes(options.signIn, (req) => httpsRedirect || req.headers["x-forwarded-proto"] === "https");
  const logChecker = services ? new ReceiptLogChecker(services.receipts, options.receiptLogKey) : undefined;
  const c2pa = services && options.c2pa ? new ConsoleC2pa(services.receipts, options.c2pa) : undefined;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://console.invalid");
    const path = url.pathname;
    // No cross-origin access of any kind: no CORS headers, no preflight, no call from another site's page.
    if (req.method === "OPTIONS") return sendText(res, 403, "cross-origin requests are not allowed");
    const svc = /^\/svc\/([a-z]+)(\/.*)?$/.exec(path);
    const isService = svc !== null && services !== undefined && useProxy && (SERVICE_NAMES as readonly string[]).includes(svc[1]!);
    // Sign-in and the provider's redirect back are top-level navigations, often from another site (the provider's);
    // the callback is guarded by its state and the browser's login cookie instead.
    const navigation = req.method === "GET" && (path === "/auth/sign-in" || path === "/auth/callback");
    if (!navigation && (isService || path.startsWith("/auth/") || (req.method !== "GET" && req.method !== "HEAD")) && crossOrigin(req)) {
      return sendText(res, 403, "cross-origin requests are not allowed");
    }
    if (isService) {
      const token = await signIn.tokenOf(req);
      if (token === undefined) return sendConnectError(res, 401, "unauthenticated", "not signed in to the console: sign in first");
      const name = svc[1] as keyof ConsoleServices;
      return proxyCall(req, res, services[name], (svc[2] ?? "/") + url.search, name, token);
    }
    if (path.startsWith("/auth/") && (await signIn.handle(req, res, url))) return;
    // The receipt panel's log badge: verified here with the user's token (see receipt-log-check.ts).
    const verify = /^\/verify\/receipts\/([^/]+)$/.exec(path);
    if (verify && logChecker && req.method === "GET") {
      if (crossOrigin(req)) return sendText(res, 403, "cross-origin requests are not allowed");
      const token = await signIn.tokenOf(req);
      if (token === undefined) return sendConnectError(res, 401, "unauthenticated", "not signed in to the console: sign in first");
      let receiptId: string;
      try {
        receiptId = decodeURIComponent(verify[1]!);
      } catch {
        return sendConnectError(res, 400, "invalid_argument", "receipt_id: is not a valid URL path segment");
      }
      return sendJson(res, 200, await logChecker.check(receiptId, token));
    }
    // Content Credentials: a signed copy of the segment's file (see c2pa-sign.ts).
    if (path === "/c2pa/sign" && req.method === "POST" && c2pa) {
      const token = await signIn.tokenOf(req);
      if (token === undefined) return sendConnectError(res, 401, "unauthenticated", "not signed in to the console: sign in first", { connection: "close" });
      return c2pa.handle(req, res, url, token);
    }
    // Import from ComfyUI: the CreateReceipt request built here (see comfyui-import.ts); the page records it.
    if (path === "/comfyui/receipt-request" && req.method === "POST") {
      const token = await signIn.tokenOf(req);
      if (token === undefined) return sendConnectError(res, 401, "unauthenticated", "not signed in to the console: sign in first");
      try {
        const answer = await buildComfyImport(await readJsonBody(req, MAX_COMFYUI_BODY_BYTES));
        return sendJson(res, answer.ok ? 200 : 422, answer);
      } catch (err) {
        if (err instanceof ComfyImportRefusal) return sendConnectError(res, err.status, "invalid_argument", err.message);
        throw err;
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "method not allowed");
    if (path === "/config.json" && browserConfig) return sendJson(res, 200, browserConfig);
    return serveFile(req, res, distDir, path);
  };
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendText(res, 500, `console error: ${(err as Error).message.split("\n")[0]}`);
      else res.destroy();
    });
  });

  const sockets = new Set<Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 7100, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.address === "::" || address.address === "0.0.0.0" ? "127.0.0.1" : address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close() {
      return new Promise((resolvePromise) => {
        server.close(() => resolvePromise());
        for (const s of sockets) s.destroy(); // open WatchStaleness streams would otherwise hold the server open
      });
    },
  };
}
