/** The built console's files: hashed bundles cached for a year, every other path (an app route) answered with index.html. */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { sendText } from "./http-replies.js";

/** Content types of the files a Vite build emits. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
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
export const STATIC_DIR = "static";

/** Throws, saying how to build, when `distDir` holds no build. */
export async function checkBuilt(distDir: string): Promise<void> {
  const index = join(distDir, "index.html");
  try {
    await stat(index);
  } catch {
    throw new Error(`the console is not built: ${index} is missing (run npm run build -w @provenance/console)`);
  }
}

/** Serves `path` from `distDir` (GET and HEAD), with the SPA fallback to index.html. */
export async function serveFile(req: IncomingMessage, res: ServerResponse, distDir: string, path: string): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return sendText(res, 400, "bad path");
  }
  const file = normalize(join(distDir, decoded));
  if (file !== distDir && !file.startsWith(distDir + sep)) return sendText(res, 403, "forbidden");
  const index = join(distDir, "index.html");
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
    "content-type": CONTENT_TYPES[extname(target)] ?? "application/octet-stream",
    "content-length": info.size,
    "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
  });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  createReadStream(target).pipe(res);
}
