import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveConsole, type RunningConsole } from "../serve.mjs";

let dist: string;
let upstream: http.Server;
let upstreamUrl: string;
let web: RunningConsole;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), "console-dist-"));
  await mkdir(join(dist, "static"));
  await writeFile(join(dist, "index.html"), "<!doctype html><title>console</title>");
  await writeFile(join(dist, "static", "app-1234.js"), "console.log(1)");
  // A stand-in service that streams two chunks, to check the proxy passes streams through as they come.
  upstream = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/connect+json", "x-seen-path": req.url ?? "" });
    res.write("first;");
    setTimeout(() => res.end("second"), 50);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  web = await serveConsole({
    port: 0,
    distDir: dist,
    servicesConfig: { receipts: upstreamUrl, staleness: upstreamUrl, regeneration: "http://127.0.0.1:1" },
  });
});

afterAll(async () => {
  await web.close();
  await new Promise((r) => upstream.close(r));
  await rm(dist, { recursive: true, force: true });
});

describe("serveConsole", () => {
  it("serves built files with long caching and app routes (even /assets/…) with index.html", async () => {
    const js = await fetch(`${web.url}/static/app-1234.js`);
    expect(js.headers.get("content-type")).toContain("text/javascript");
    expect(js.headers.get("cache-control")).toContain("immutable");
    for (const route of ["/", "/segments/seg-1", "/assets/anna.png/versions/2", "/report?project=p"]) {
      const res = await fetch(`${web.url}${route}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("<title>console</title>");
      expect(res.headers.get("cache-control")).toBe("no-cache");
    }
    expect((await fetch(`${web.url}/static/missing.js`)).status).toBe(404);
    // Encoded slashes survive URL normalisation and decode to a path outside dist/.
    const status = await new Promise<number>((resolve, reject) =>
      http.get(`${web.url}/..%2f..%2f..%2fetc%2fpasswd`, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject),
    );
    expect(status).toBe(403);
  });

  it("names the proxied service paths in config.json", async () => {
    expect(await (await fetch(`${web.url}/config.json`)).json()).toEqual({
      receipts: "/svc/receipts",
      staleness: "/svc/staleness",
      regeneration: "/svc/regeneration",
    });
  });

  it("proxies /svc/<service>/… with the path and query, streaming the response", async () => {
    const res = await fetch(`${web.url}/svc/staleness/provenance.v1.StalenessService/WatchStaleness?x=1`, { method: "POST", body: "{}" });
    expect(res.headers.get("x-seen-path")).toBe("/provenance.v1.StalenessService/WatchStaleness?x=1");
    expect(await res.text()).toBe("first;second");
  });

  it("answers 502 naming the service when it is not reachable", async () => {
    const res = await fetch(`${web.url}/svc/regeneration/provenance.v1.RegenerationService/PlanRegeneration`, { method: "POST", body: "{}" });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { message: string }).message).toMatch(/the regeneration service at http:\/\/127.0.0.1:1 is not reachable/);
  });

  it("refuses to start without a build, saying how to make one", async () => {
    await expect(serveConsole({ port: 0, distDir: join(dist, "nope") })).rejects.toThrow(/not built.*npm run build/);
  });
});
