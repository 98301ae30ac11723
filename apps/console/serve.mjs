// Serves the built console: static files from dist/ with an SPA fallback, /config.json naming the services, and
// (by default) a same-origin proxy /svc/<service>/… to each service, so the browser needs no CORS. Node built-ins only.
// Run alone: `node apps/console/serve.mjs` (CONSOLE_PORT, default 7100; RECEIPTS_URL, STALENESS_URL, REGENERATION_URL;
// CONSOLE_PROXY=0 to hand the browser the service URLs directly, which then need CORS_ORIGINS to allow this origin).
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import * as http from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Content types of the files a Vite build emits. */
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Where Vite puts the hashed bundles (vite.config.ts build.assetsDir); not "assets", which is an app route. */
const STATIC_DIR = "static";

/** The services the console calls, by the names config.json uses. */
export const SERVICE_NAMES = ["receipts", "staleness", "regeneration"];

// Hop-by-hop headers are not forwarded by a proxy (RFC 9110 §7.6.1).
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "host"]);

function forwardHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k.toLowerCase()) && v !== undefined) out[k] = v;
  return out;
}

function sendText(res, status, text, type = "text/plain; charset=utf-8") {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/** Pipes one request to `base` + `rest`; streams both ways, so server-streaming RPCs (WatchStaleness) pass through. */
function proxy(req, res, base, rest, name) {
  const target = new URL(base.replace(/\/+$/, "") + rest);
  const upstream = http.request(
    target,
    { method: req.method, headers: { ...forwardHeaders(req.headers), host: target.host } },
    (up) => {
      res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers));
      res.flushHeaders();
      up.pipe(res);
    },
  );
  upstream.on("error", (err) => {
    if (res.headersSent) return res.destroy();
    sendText(
      res,
      502,
      JSON.stringify({ code: "unavailable", message: `the ${name} service at ${base} is not reachable (${err.message}): is it running?` }),
      "application/json; charset=utf-8",
    );
  });
  res.on("close", () => upstream.destroy()); // the browser went away (a closed WatchStaleness, a new page)
  req.pipe(upstream);
}

/**
 * Starts the console's server and resolves once it listens.
 * @param {{ port?: number, host?: string, distDir?: string, servicesConfig?: { receipts: string, staleness: string, regeneration: string }, proxy?: boolean }} options
 *   `port` 0 picks a free one (default 7100); `servicesConfig` are the services' base URLs; with `proxy` (default true)
 *   config.json points the browser at /svc/<name> on this server, otherwise straight at `servicesConfig`.
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function serveConsole(options = {}) {
  const distDir = resolve(options.distDir ?? fileURLToPath(new URL("./dist", import.meta.url)));
  const services = options.servicesConfig;
  const useProxy = options.proxy ?? true;
  const index = join(distDir, "index.html");
  try {
    await stat(index);
  } catch {
    throw new Error(`the console is not built: ${index} is missing (run npm run build -w @provenance/console)`);
  }
  const browserConfig = services
    ? Object.fromEntries(SERVICE_NAMES.map((n) => [n, useProxy ? `/svc/${n}` : services[n]]))
    : undefined;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://console.invalid");
    const path = url.pathname;
    const svc = /^\/svc\/([a-z]+)(\/.*)?$/.exec(path);
    if (svc && services && useProxy && SERVICE_NAMES.includes(svc[1])) {
      return proxy(req, res, services[svc[1]], (svc[2] ?? "/") + url.search, svc[1]);
    }
    if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "method not allowed");
    if (path === "/config.json" && browserConfig) return sendText(res, 200, JSON.stringify(browserConfig), TYPES[".json"]);
    let decoded;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return sendText(res, 400, "bad path");
    }
    const file = normalize(join(distDir, decoded));
    if (file !== distDir && !file.startsWith(distDir + sep)) return sendText(res, 403, "forbidden");
    let target = file;
    let info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      // Missing built files are real 404s; every other path (even /assets/anna.png, an asset's page) is an app route.
      if (decoded.startsWith(`/${STATIC_DIR}/`)) return sendText(res, 404, `not found: ${decoded}`);
      target = index;
      info = await stat(index);
    }
    const hashed = target.startsWith(join(distDir, STATIC_DIR) + sep);
    res.writeHead(200, {
      "content-type": TYPES[extname(target)] ?? "application/octet-stream",
      "content-length": info.size,
      "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    });
    if (req.method === "HEAD") return res.end();
    createReadStream(target).pipe(res);
  });

  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 7100, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolvePromise();
    });
  });
  const address = server.address();
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const running = await serveConsole({
    port: Number(env.CONSOLE_PORT ?? 7100),
    host: env.HOST ?? "127.0.0.1",
    proxy: env.CONSOLE_PROXY !== "0",
    servicesConfig: {
      receipts: env.RECEIPTS_URL ?? "http://127.0.0.1:7101",
      staleness: env.STALENESS_URL ?? "http://127.0.0.1:7102",
      regeneration: env.REGENERATION_URL ?? "http://127.0.0.1:7103",
    },
  });
  console.log(`console   ${running.url}`);
  const stop = () => running.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
