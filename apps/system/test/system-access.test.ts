/** npm start's access set-up on its own: the local issuer's files, the launcher's grants, token files re-minted, the operator's settings passed through. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { parsePolicy, roleIn } from "@provenance/shared/auth";
import { LAUNCHER_GRANTS, LAUNCHER_SUBJECTS, ensureGrants, setUpAccess } from "../src/system-access.js";
import { SystemStartError } from "../src/system-start-error.js";

const dirs: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "provenance-access-"));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function verify(token: string, jwksFile: string) {
  const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, "utf8")));
  return (await jwtVerify(token, jwks, { issuer: "provenance-local", audience: "provenance" })).payload;
}

describe("local mode (AUTH_JWKS unset)", () => {
  it("points every service at the local issuer, with a token file of its own, and grants the launcher's processes", async () => {
    const dataDir = folder();
    const access = await setUpAccess({ dataDir, env: {} });
    try {
      expect(access.mode).toBe("local");
      const env = access.serviceEnv("regeneration");
      expect(env).toEqual({
        AUTH_JWKS: join(dataDir, "auth", "jwks.json"),
        AUTH_ISSUER: "provenance-local",
        AUTH_AUDIENCE: "provenance",
        AUTH_POLICY: join(dataDir, "auth", "policy.yaml"),
        SERVICE_TOKEN_FILE: join(dataDir, "auth", "regeneration.token"),
      });
      const claims = await verify(readFileSync(env.SERVICE_TOKEN_FILE!, "utf8").trim(), env.AUTH_JWKS!);
      expect(claims.sub).toBe(LAUNCHER_SUBJECTS.regeneration);
      const simulator = await verify(readFileSync(access.simulatorTokenFile!, "utf8").trim(), env.AUTH_JWKS!);
      expect(simulator.sub).toBe(LAUNCHER_SUBJECTS.simulator);
      const policy = parsePolicy(readFileSync(env.AUTH_POLICY!, "utf8"));
      expect(roleIn(policy, { subject: access.issuer!.subject, groups: [] }, "any-project")).toBe("admin");
      expect(roleIn(policy, { subject: LAUNCHER_SUBJECTS.simulator, groups: [] }, "any-project")).toBe("pipeline");
      // The services act for their callers, forwarding the callers' tokens: their own subjects hold nothing.
      expect(roleIn(policy, { subject: LAUNCHER_SUBJECTS.regeneration, groups: [] }, "any-project")).toBeUndefined();
    } finally {
      access.stop();
    }
  });

  it("re-mints the token files before they expire", async () => {
    const dataDir = folder();
    const access = await setUpAccess({ dataDir, env: {}, tokenTtlSeconds: 2, renewCheckMs: 100 });
    try {
      const file = access.simulatorTokenFile!;
      const first = readFileSync(file, "utf8");
      const firstExp = (await verify(first.trim(), join(dataDir, "auth", "jwks.json"))).exp!;
      const deadline = Date.now() + 5_000;
      while (readFileSync(file, "utf8") === first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const second = readFileSync(file, "utf8").trim();
      expect(second).not.toBe(first.trim());
      const claims = await verify(second, join(dataDir, "auth", "jwks.json"));
      expect(claims.exp!).toBeGreaterThanOrEqual(firstExp);
      expect(claims.sub).toBe(LAUNCHER_SUBJECTS.simulator);
    } finally {
      access.stop();
    }
  });

  it("keeps the policy's own entries and comments, adds only missing grants, and refuses a broken policy in one line", async () => {
    const dir = folder();
    const file = join(dir, "policy.yaml");
    writeFileSync(file, ["# my notes", "grants:", '  - { subject: "alice", project: "42", role: creator }', ""].join("\n"));
    await ensureGrants(file, LAUNCHER_GRANTS);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# my notes");
    const policy = parsePolicy(text);
    expect(roleIn(policy, { subject: "alice", groups: [] }, "42")).toBe("creator");
    expect(roleIn(policy, { subject: LAUNCHER_SUBJECTS.simulator, groups: [] }, "42")).toBe("pipeline");
    // Running it again changes nothing.
    await ensureGrants(file, LAUNCHER_GRANTS);
    expect(readFileSync(file, "utf8")).toBe(text);

    // A grant already at least as strong is left as it is, not added twice.
    const stronger = ["grants:", `  - { subject: "${LAUNCHER_SUBJECTS.simulator}", project: "*", role: admin }`, ""].join("\n");
    writeFileSync(file, stronger);
    await ensureGrants(file, LAUNCHER_GRANTS);
    expect(readFileSync(file, "utf8")).toBe(stronger);

    writeFileSync(file, "grants:\n  - { subject: alice, project: 42, role: owner }\n");
    const err = await ensureGrants(file, LAUNCHER_GRANTS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SystemStartError);
    expect((err as Error).message).toMatch(new RegExp(`^the local access policy ${file} cannot be used \\(grants\\[0\\]\\.project: must be a string; quote a numeric project id`));
  });
});

describe("with AUTH_JWKS set", () => {
  it("passes the operator's settings through and runs no issuer", async () => {
    const dataDir = folder();
    const env = {
      AUTH_JWKS: "https://dex.example.com/keys",
      AUTH_ISSUER: "https://dex.example.com",
      AUTH_AUDIENCE: "provenance-console",
      AUTH_POLICY: "/etc/provenance/policy.yaml",
      SERVICE_TOKEN_FILE: "/var/run/secrets/provenance/token",
      UNRELATED: "x",
    };
    const access = await setUpAccess({ dataDir, env });
    expect(access.mode).toBe("external");
    expect(access.issuer).toBeUndefined();
    expect(access.serviceEnv("receipts")).toEqual({
      AUTH_JWKS: env.AUTH_JWKS,
      AUTH_ISSUER: env.AUTH_ISSUER,
      AUTH_AUDIENCE: env.AUTH_AUDIENCE,
      AUTH_POLICY: env.AUTH_POLICY,
      SERVICE_TOKEN_FILE: env.SERVICE_TOKEN_FILE,
    });
    expect(access.simulatorTokenFile).toBe(env.SERVICE_TOKEN_FILE);
    expect(access.line).toBe(
      "access       tokens of https://dex.example.com (keys https://dex.example.com/keys, audience provenance-console), grants in /etc/provenance/policy.yaml; no local issuer",
    );
    expect(() => readFileSync(join(dataDir, "auth", "jwks.json"))).toThrow();
  });

  it("refuses a bad setting naming the variable", async () => {
    await expect(setUpAccess({ dataDir: folder(), env: { AUTH_JWKS: "ftp://keys", AUTH_ISSUER: "i", AUTH_POLICY: "/p" } })).rejects.toThrow(
      /^AUTH_JWKS: must be an https:\/\/ or http:\/\/ URL or a file path/,
    );
  });
});
