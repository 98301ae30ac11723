/**
 * The console signing in through OpenID Connect (authorization code + PKCE S256) in real headless Chromium: a small
 * provider of this test's own (test/oidc-provider.ts) issues the tokens, and the system is started as npm start
 * starts it with AUTH_JWKS/AUTH_ISSUER/AUTH_POLICY pointing at that provider and CONSOLE_OIDC_* at the console's
 * client — so the services check the very token the console obtained.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptService, freePort } from "@provenance/shared";
import { createTestEnvironment, sampleCreateReceipt, type TestEnvironment } from "@provenance/shared/testing";
import { startSystem, type RunningSystem } from "@provenance/system";
import { startOidcProvider, type OidcProvider } from "./oidc-provider.js";
import { buildConsole, sha } from "./system-under-test.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CLIENT_ID = "provenance-console";
const CLIENT_SECRET = "console-test-secret";
const USER = { sub: "mira@studio.example", name: "Mira Okafor", groups: ["team-falcon"] };

let env: TestEnvironment;
let provider: OidcProvider;
let system: RunningSystem;
let context: BrowserContext;
let page: Page;
let work: string;

/** Records a receipt in `projectId` as the provider's pipeline workload. */
async function record(projectId: string, segmentId: string): Promise<void> {
  const receipts = env.client(ReceiptService, system.urls.receipts, { token: await provider.accessToken("pipeline@workloads") });
  await receipts.createReceipt(
    sampleCreateReceipt({ segmentId, sceneId: `${projectId}.scene-1`, projectId, idempotencyKey: `oidc-${segmentId}` }, {
      sourceImage: { assetId: "src", contentHash: sha("src") },
      workflow: { assetId: "wf", contentHash: sha("wf") },
      model: { assetId: "model", contentHash: sha("model") },
      seed: 1n,
      steps: 20,
    }),
  );
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium, or CHROMIUM_PATH)`);
  await buildConsole();
  work = await mkdtemp(join(tmpdir(), "console-oidc-"));
  env = await createTestEnvironment({ name: "console_oidc" });
  const consolePort = await freePort();
  const redirectUri = `http://127.0.0.1:${consolePort}/auth/callback`;
  // Access tokens of 30 s: within the console's renewal margin from the start, so every proxied call refreshes first.
  provider = await startOidcProvider({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri, user: USER, audience: "provenance", accessTokenSeconds: 30 });
  const policy = join(work, "policy.yaml");
  await writeFile(
    policy,
    [
      "grants:",
      '  - { group: "team-falcon", project: "falcon", role: creator }',
      '  - { subject: "pipeline@workloads", project: "*", role: pipeline }',
      "",
    ].join("\n"),
  );
  system = await startSystem({
    dataDir: work,
    databaseUrl: env.db.url,
    natsUrl: env.nats.url,
    eventNamespace: env.nats.namespace,
    ports: { receipts: 0, staleness: 0, regeneration: 0 },
    consolePort,
    simulator: false,
    logLevel: "silent",
    authEnv: {
      AUTH_JWKS: provider.jwksUri,
      AUTH_ISSUER: provider.issuer,
      AUTH_AUDIENCE: "provenance",
      AUTH_POLICY: policy,
      CONSOLE_OIDC_ISSUER: provider.issuer,
      CONSOLE_OIDC_CLIENT_ID: CLIENT_ID,
      CONSOLE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      CONSOLE_OIDC_REDIRECT_URI: redirectUri,
      CONSOLE_OIDC_SCOPES: "openid profile groups offline_access",
    },
  });
  await record("falcon", "falcon-seg-1");
  await record("heron", "heron-seg-1");
  const profile = join(work, "chromium");
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
}, 180_000);

afterAll(async () => {
  await context?.close();
  await system?.stop();
  await provider?.close();
  await env?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the console with an OpenID Connect provider", () => {
  it("starts signed out, with no local issuer", async () => {
    expect(system.accessMode).toBe("external");
    expect(existsSync(join(work, "auth"))).toBe(false);
    await page.goto(`${system.consoleUrl}/projects`);
    await page.getByRole("heading", { name: "Signed out" }).waitFor();
    await page.getByText("Sign in with your organisation's account.").waitFor();
  });

  it("signs in by authorization code + PKCE (S256), and the services accept the token the console got", async () => {
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Test provider" }).waitFor();
    const asked = provider.record.authorizations.at(-1)!;
    expect(asked.get("response_type")).toBe("code");
    expect(asked.get("code_challenge_method")).toBe("S256");
    expect(asked.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(asked.get("state")).toBeTruthy();
    expect(asked.get("nonce")).toBeTruthy();
    expect(asked.get("scope")).toBe("openid profile groups offline_access");
    await page.getByRole("button", { name: `Continue as ${USER.name}` }).click();
    await expect.poll(() => page.locator(".user-menu .user-name").textContent()).toBe(USER.name);
    expect(new URL(page.url()).pathname).toBe("/projects");
    expect(provider.record.pkceVerified).toBe(1);
    expect(provider.record.refusals).toEqual([]);
    // The group's project is listed; the other project is not (the services filter by the user's grants).
    await page.getByRole("link", { name: "falcon", exact: true }).waitFor();
    expect(await page.getByRole("link", { name: "heron", exact: true }).count()).toBe(0);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    // The session's token was renewed with the (rotated) refresh token, server-side, and the calls went on working.
    expect(provider.record.refreshes).toBeGreaterThan(0);
    expect(provider.record.refusals).toEqual([]);
  });

  it("refuses a callback this browser did not start (no login cookie, unknown state)", async () => {
    const res = await fetch(`${system.consoleUrl}/auth/callback?code=stolen&state=made-up`);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/^sign-in failed: this sign-in was not started here/);
  });

  it("signs out at the console and at the provider, and the proxy refuses the old session", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Signed out" }).waitFor();
    expect(provider.record.signOuts).toBe(1);
    const status = await page.evaluate(async () => {
      const r = await fetch("/svc/receipts/provenance.v1.ReceiptService/ListProjects", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      return r.status;
    });
    expect(status).toBe(401);
  });
});
