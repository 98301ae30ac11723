/** The console's server: static files, config.json, sign-in sessions, and the proxy that presents only the user's token. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveConsole, type RunningConsole } from "../server/src/serve.js";

let dist: string;
let upstream: http.Server;
let upstreamUrl: string;
let web: RunningConsole;
let unconfigured: RunningConsole;
/** What the stand-in service saw of the last request. */
let seen: http.IncomingHttpHeaders = {};
let minted = 0;

/** A token as the local issuer would mint it: only its `exp` is read by the console. */
function fakeToken(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "EdDSA" })}.${part({ sub: "local:tester", exp: Math.floor(Date.now() / 1000) + 3600, n: ++minted })}.sig`;
}

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), "console-dist-"));
  await mkdir(join(dist, "static"));
  await writeFile(join(dist, "index.html"), "<!doctype html><title>console</title>");
  await writeFile(join(dist, "static", "app-1234.js"), "console.log(1)");
  // A stand-in service that streams two chunks (the proxy must pass streams through as they come) and tries to set a cookie.
  upstream = http.createServer((req, res) => {
    seen = req.headers;
    res.writeHead(200, { "content-type": "application/connect+json", "x-seen-path": req.url ?? "", "set-cookie": "upstream=1" });
    res.write("first;");
    setTimeout(() => res.end("second"), 50);
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const servicesConfig = { receipts: upstreamUrl, staleness: upstreamUrl, regeneration: "http://127.0.0.1:1" };
  web = await serveConsole({ port: 0, distDir: dist, servicesConfig, signIn: { mode: "local", subject: "local:tester", mintToken: async () => fakeToken() } });
  unconfigured = await serveConsole({ port: 0, distDir: dist, servicesConfig });
});

afterAll(async () => {
  await web.close();
  await unconfigured.close();
  await new Promise((r) => upstream.close(r));
  await rm(dist, { recursive: true, force: true });
});

/** The session cookie (`name=value`) of a response, if it sets one. */
function sessionCookie(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .find((c) => c.startsWith("provenance_console_session=") && !c.includes("Max-Age=0"))
    ?.split(";")[0];
}

async function signIn(): Promise<string> {
  const res = await fetch(`${web.url}/auth/session`);
  expect(await res.json()).toEqual({ signedIn: true, subject: "local:tester", name: "local:tester", signIn: "local" });
  const set = res.headers.getSetCookie().find((c) => c.startsWith("provenance_console_session="))!;
  expect(set).toMatch(/; Path=\/; HttpOnly; SameSite=Lax$/);
  return sessionCookie(res)!;
}

const call = (base: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: "POST", body: "{}", headers: { "content-type": "application/json", ...headers } });

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

  it("answers a proxied call without a session 401, reaching no service", async () => {
    seen = {};
    const res = await call(web.url, "/svc/receipts/provenance.v1.ReceiptService/ListProjects");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: "unauthenticated", message: "not signed in to the console: sign in first" });
    expect(seen).toEqual({});
    const forged = await call(web.url, "/svc/receipts/provenance.v1.ReceiptService/ListProjects", { cookie: "provenance_console_session=made-up" });
    expect(forged.status).toBe(401);
  });

  it("proxies /svc/<service>/… with the path and query, streaming, as the user's bearer and nothing else of the browser's", async () => {
    const cookie = await signIn();
    const res = await call(web.url, "/svc/staleness/provenance.v1.StalenessService/WatchStaleness?x=1", {
      cookie: `${cookie}; other=1`,
      authorization: "Bearer the-browsers-own",
      "x-request-id": "req-123",
      "connect-protocol-version": "1",
      "x-custom": "dropped",
    });
    expect(res.headers.get("x-seen-path")).toBe("/provenance.v1.StalenessService/WatchStaleness?x=1");
    expect(await res.text()).toBe("first;second");
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(seen.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.sig$/);
    expect(seen.authorization).not.toBe("Bearer the-browsers-own");
    expect(seen.cookie).toBeUndefined();
    expect(seen["x-custom"]).toBeUndefined();
    expect(seen["x-request-id"]).toBe("req-123");
    expect(seen["connect-protocol-version"]).toBe("1");
    expect(seen["content-type"]).toBe("application/json");
  });

  it("answers 502 naming the service when it is not reachable", async () => {
    const res = await call(web.url, "/svc/regeneration/provenance.v1.RegenerationService/PlanRegeneration", { cookie: await signIn() });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { message: string }).message).toMatch(/the regeneration service at http:\/\/127.0.0.1:1 is not reachable/);
  });

  it("allows no cross-origin call: preflights and other origins' requests are 403, and no response has CORS headers", async () => {
    const cookie = await signIn();
    const preflight = await fetch(`${web.url}/svc/receipts/provenance.v1.ReceiptService/ListProjects`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
    expect([...preflight.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
    seen = {};
    const foreign = await call(web.url, "/svc/receipts/provenance.v1.ReceiptService/ListProjects", { cookie, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    const crossSite = await call(web.url, "/svc/receipts/provenance.v1.ReceiptService/ListProjects", { cookie, "sec-fetch-site": "cross-site" });
    expect(crossSite.status).toBe(403);
    expect(seen).toEqual({});
    const signOut = await fetch(`${web.url}/auth/sign-out`, { method: "POST", headers: { cookie, origin: "https://evil.example" } });
    expect(signOut.status).toBe(403);
    const session = await fetch(`${web.url}/auth/session`, { headers: { cookie, "sec-fetch-site": "cross-site" } });
    expect(session.status).toBe(403);
    // Signing in and coming back from a provider are navigations from other sites: not refused as cross-origin.
    const signInFromElsewhere = await fetch(`${web.url}/auth/sign-in`, { headers: { "sec-fetch-site": "cross-site" }, redirect: "manual" });
    expect(signInFromElsewhere.status).toBe(303);
    const callbackFromElsewhere = await fetch(`${web.url}/auth/callback?state=x`, { headers: { "sec-fetch-site": "cross-site" } });
    expect(callbackFromElsewhere.status).toBe(404); // local mode has no callback; an OIDC console checks state and cookie
    const same = await call(web.url, "/svc/receipts/provenance.v1.ReceiptService/ListProjects", { cookie, origin: web.url });
    expect(same.status).toBe(200);
    await same.text();
    expect([...same.headers.keys()].filter((k) => k.startsWith("access-control-"))).toEqual([]);
  });

  it("signs out for real: the session ends, the browser is not signed back in, and the sign-in button signs in again", async () => {
    const cookie = await signIn();
    const out = await fetch(`${web.url}/auth/sign-out`, { method: "POST", headers: { cookie, origin: web.url } });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ signedIn: false });
    const cleared = out.headers.getSetCookie();
    expect(cleared.some((c) => c.startsWith("provenance_console_session=;") && c.includes("Max-Age=0"))).toBe(true);
    const marker = cleared.find((c) => c.startsWith("provenance_console_signed_out=1"))!.split(";")[0]!;
    // The old session id no longer works, even if a browser kept it.
    expect((await call(web.url, "/svc/receipts/provenance.v1.ReceiptService/ListProjects", { cookie })).status).toBe(401);
    const after = await fetch(`${web.url}/auth/session`, { headers: { cookie: marker } });
    expect(await after.json()).toEqual({ signedIn: false, signIn: "local" });
    expect(sessionCookie(after)).toBeUndefined();
    const again = await fetch(`${web.url}/auth/sign-in?return_to=/report`, { headers: { cookie: marker }, redirect: "manual" });
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toBe("/report");
    const fresh = sessionCookie(again)!;
    const proxied = await call(web.url, "/svc/receipts/provenance.v1.ReceiptService/ListProjects", { cookie: fresh });
    expect(proxied.status).toBe(200);
    await proxied.text();
    // Only a path of this console is returned to.
    const offsite = await fetch(`${web.url}/auth/sign-in?return_to=//evil.example/x`, { redirect: "manual" });
    expect(offsite.headers.get("location")).toBe("/");
  });

  it("without a way to sign in, says so and lets no call through", async () => {
    expect(await (await fetch(`${unconfigured.url}/auth/session`)).json()).toEqual({ signedIn: false, signIn: "none" });
    expect((await call(unconfigured.url, "/svc/receipts/provenance.v1.ReceiptService/ListProjects")).status).toBe(401);
    const signIn = await fetch(`${unconfigured.url}/auth/sign-in`, { redirect: "manual" });
    expect(signIn.status).toBe(503);
    expect(await signIn.text()).toMatch(/^sign-in is not configured: set CONSOLE_OIDC_ISSUER/);
  });

  it("refuses to start without a build, saying how to make one", async () => {
    await expect(serveConsole({ port: 0, distDir: join(dist, "nope") })).rejects.toThrow(/not built.*npm run build/);
  });
});
