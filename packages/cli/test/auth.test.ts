/** Signing in from the CLI: where its token comes from, `provenance auth token`, and what a refused or missing token looks like. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { startStaleness } from "@provenance/staleness/start";
import { createTestEnvironment, TEST_ADMIN, type TestEnvironment } from "@provenance/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notSignedIn } from "../src/credentials.js";
import { main } from "../src/main.js";

let env: TestEnvironment;
let stalenessUrl: string;
let work: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI against the staleness service with exactly `vars` as its environment (besides the URL). */
async function cli(argv: string[], vars: Record<string, string> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { STALENESS_URL: stalenessUrl, ...vars },
  });
  return { code, stdout, stderr };
}

/** A data directory holding the environment's local issuer (its local user is the test admin). */
const withIssuer = () => ({ PROVENANCE_DATA_DIR: env.dir });
/** A data directory with no local issuer in it. */
const noIssuer = () => ({ PROVENANCE_DATA_DIR: join(work, "empty") });

async function claimsOf(token: string) {
  const jwks = createLocalJWKSet(JSON.parse(readFileSync(env.issuer.jwksFile, "utf8")));
  return (await jwtVerify(token, jwks, { issuer: env.issuer.issuer, audience: env.issuer.audience })).payload;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "cli-auth-"));
  env = await createTestEnvironment({
    name: "cli_auth",
    grants: [
      { subject: TEST_ADMIN, project: "*", role: "admin" },
      { subject: "viewer@example.com", project: "p-auth", role: "viewer" },
    ],
  });
  stalenessUrl = (await env.start("staleness", startStaleness)).url;
}, 120_000);

afterAll(async () => {
  await env?.close();
  rmSync(work, { recursive: true, force: true });
});

describe("provenance auth token", () => {
  it("prints a token of the local issuer for the local user, valid 12 h", async () => {
    const run = await cli(["auth", "token"], withIssuer());
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const claims = await claimsOf(run.stdout.trim());
    expect(claims.sub).toBe(TEST_ADMIN);
    expect(claims.groups).toBeUndefined();
    expect(claims.exp! - claims.iat!).toBe(12 * 3600);
  });

  it("takes --subject, --group (repeated) and --ttl", async () => {
    const run = await cli(["auth", "token", "--subject", "mira@studio.example", "--group", "team-falcon", "--group", "leads", "--ttl", "30m"], withIssuer());
    expect(run.code).toBe(0);
    const claims = await claimsOf(run.stdout.trim());
    expect(claims).toMatchObject({ sub: "mira@studio.example", groups: ["team-falcon", "leads"] });
    expect(claims.exp! - claims.iat!).toBe(1800);
    const bad = await cli(["auth", "token", "--ttl", "forever"], withIssuer());
    expect(bad).toEqual({ code: 2, stdout: "", stderr: 'provenance: --ttl must be a lifetime like 90s, 30m, 12h or 7d (at most 30d), got "forever"\n' });
  });

  it("refuses clearly, exit 7, when there is no local issuer", async () => {
    const run = await cli(["auth", "token"], noIssuer());
    expect(run.code).toBe(7);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `provenance: there is no local issuer in ${join(work, "empty")}/auth: it is made by npm start when AUTH_JWKS is unset; with your own issuer, get a token from it (set PROVENANCE_DATA_DIR if npm start uses another data directory)\n`,
    );
  });
});

describe("the CLI's token", () => {
  it("is minted from the local issuer in the data directory when nothing else is given", async () => {
    const run = await cli(["assets", "list", "--json"], withIssuer());
    expect(run).toMatchObject({ code: 0, stderr: "" });
  });

  it("is PROVENANCE_TOKEN when set: a viewer may list but not register (denied, exit 7, one line)", async () => {
    const token = await env.token({ subject: "viewer@example.com" });
    const list = await cli(["assets", "list", "--project", "p-auth", "--json"], { ...noIssuer(), PROVENANCE_TOKEN: token });
    expect(list).toMatchObject({ code: 0, stderr: "" });
    const denied = await cli(["assets", "register", "--kind", "lora", "--name", "x", "--project", "p-auth"], { ...noIssuer(), PROVENANCE_TOKEN: token });
    expect(denied.code).toBe(7);
    expect(denied.stdout).toBe("");
    expect(denied.stderr).toMatch(/^provenance: denied: .+ \(ask an admin for a grant on that project in the access policy\)\n$/);
  });

  it("is the token in --token-file, which wins over PROVENANCE_TOKEN", async () => {
    const file = join(work, "admin.jwt");
    writeFileSync(file, `${await env.token()}\n`);
    const viewer = await env.token({ subject: "viewer@example.com" });
    const run = await cli(["assets", "register", "--kind", "lora", "--name", "by-file", "--id", "lora-by-file", "--project", "p-auth", "--token-file", file], {
      ...noIssuer(),
      PROVENANCE_TOKEN: viewer,
    });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const missing = await cli(["assets", "list", "--token-file", join(work, "nope.jwt")], noIssuer());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^provenance: --token-file cannot use .*nope\.jwt: /);
  });

  it("missing altogether: not signed in, exit 7, saying how to get one, and nothing is called", async () => {
    const run = await cli(["assets", "list"], noIssuer());
    expect(run).toEqual({ code: 7, stdout: "", stderr: `provenance: ${notSignedIn(join(work, "empty", "auth"))}\n` });
  });

  it("refused by the service (wrong audience): not signed in, exit 7, with the service's reason", async () => {
    const token = await env.token({ audience: "someone-else" });
    const run = await cli(["assets", "list"], { ...noIssuer(), PROVENANCE_TOKEN: token });
    expect(run.code).toBe(7);
    expect(run.stderr).toBe(
      "provenance: not signed in: the staleness service refused the token (token has the wrong audience); check PROVENANCE_TOKEN / --token-file (npx provenance auth token prints one in local mode)\n",
    );
  });
});
