/** The auth variables: typed, defaulted, and refused with the variable's name; the policy file read and re-read. */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/index.js";
import { DEFAULT_AUDIENCE, loadAuthConfig, loadPolicyFile, loadServiceTokenFile, mayDo, roleIn } from "../src/auth/index.js";

const base = { AUTH_JWKS: "/etc/provenance/jwks.json", AUTH_ISSUER: "https://issuer.test", AUTH_POLICY: "/etc/provenance/policy.yaml" };

function configErrorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("no ConfigError");
}

describe("loadAuthConfig", () => {
  it("reads a JWKS file, the issuer, the default audience and the policy", () => {
    expect(loadAuthConfig(base)).toEqual({
      jwks: { kind: "file", path: "/etc/provenance/jwks.json" },
      issuer: "https://issuer.test",
      audience: DEFAULT_AUDIENCE,
      policyFile: "/etc/provenance/policy.yaml",
    });
    expect(DEFAULT_AUDIENCE).toBe("provenance");
  });

  it("reads a JWKS URL, an audience, a service token file, and makes relative paths absolute", () => {
    const c = loadAuthConfig({
      ...base,
      AUTH_JWKS: "https://kubernetes.default.svc/openid/v1/jwks",
      AUTH_AUDIENCE: "platform",
      AUTH_POLICY: "policy.yaml",
      SERVICE_TOKEN_FILE: "/var/run/secrets/tokens/provenance",
    });
    expect(c.jwks).toEqual({ kind: "url", url: new URL("https://kubernetes.default.svc/openid/v1/jwks") });
    expect(c.audience).toBe("platform");
    expect(c.policyFile).toBe(resolve("policy.yaml"));
    expect(c.serviceTokenFile).toBe("/var/run/secrets/tokens/provenance");
    expect(loadAuthConfig({ ...base, AUTH_JWKS: "http://127.0.0.1:5556/keys" }).jwks.kind).toBe("url");
  });

  it("names the variable that is missing or wrong", () => {
    expect(configErrorOf(() => loadAuthConfig({ ...base, AUTH_JWKS: "" })).variable).toBe("AUTH_JWKS");
    expect(configErrorOf(() => loadAuthConfig({ ...base, AUTH_JWKS: undefined })).message).toMatch(/^AUTH_JWKS: is required/);
    expect(configErrorOf(() => loadAuthConfig({ ...base, AUTH_JWKS: "ftp://keys.test/jwks" })).message).toMatch(/^AUTH_JWKS: must be an https:\/\/ or http:\/\/ URL or a file path/);
    expect(configErrorOf(() => loadAuthConfig({ ...base, AUTH_JWKS: "https://" })).variable).toBe("AUTH_JWKS");
    expect(configErrorOf(() => loadAuthConfig({ ...base, AUTH_ISSUER: " " })).variable).toBe("AUTH_ISSUER");
    expect(configErrorOf(() => loadAuthConfig({ ...base, AUTH_POLICY: undefined })).variable).toBe("AUTH_POLICY");
  });

  it("SERVICE_TOKEN_FILE alone, for a process that only calls services", () => {
    expect(loadServiceTokenFile({ SERVICE_TOKEN_FILE: "/var/run/token" })).toBe("/var/run/token");
    expect(configErrorOf(() => loadServiceTokenFile({})).variable).toBe("SERVICE_TOKEN_FILE");
  });
});

describe("the policy file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "auth-policy-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const alice = { subject: "alice", groups: [] };

  it("is read as YAML or JSON", async () => {
    await writeFile(join(dir, "p.yaml"), "grants:\n  - subject: alice\n    project: A\n    role: creator\n");
    await writeFile(join(dir, "p.json"), JSON.stringify({ grants: [{ subject: "alice", project: "*", role: "viewer" }] }));
    expect(roleIn(await (await loadPolicyFile(join(dir, "p.yaml"))).current(), alice, "A")).toBe("creator");
    expect(roleIn(await (await loadPolicyFile(join(dir, "p.json"))).current(), alice, "Q")).toBe("viewer");
  });

  it("that is invalid at start is a ConfigError naming AUTH_POLICY, the file and the entry", async () => {
    const file = join(dir, "bad.json");
    const grants = [0, 1, 2].map((i) => ({ subject: `u${i}`, project: "A", role: "viewer" }));
    await writeFile(file, JSON.stringify({ grants: [...grants, { subject: "u3", project: "A", role: "owner" }] }));
    const err = await loadPolicyFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe("AUTH_POLICY");
    expect((err as ConfigError).message).toBe(`AUTH_POLICY: ${file}: grants[3].role: unknown role "owner"; one of viewer, pipeline, creator, admin`);
    await expect(loadPolicyFile(join(dir, "absent.yaml"))).rejects.toThrow(/^AUTH_POLICY: cannot read .*absent\.yaml/);
  });

  it("is re-read when it changes; a broken edit keeps the last valid grants and is reported once", async () => {
    const file = join(dir, "live.yaml");
    await writeFile(file, "grants:\n  - { subject: alice, project: A, role: viewer }\n");
    const errors: unknown[] = [];
    let reloads = 0;
    const source = await loadPolicyFile(file, { checkIntervalMs: 0, onReloadError: (e) => errors.push(e), onReload: () => reloads++ });
    expect(mayDo(await source.current(), alice, "creator", "A")).toBe(false);

    await writeFile(`${file}.tmp`, "grants:\n  - { subject: alice, project: A, role: creator }\n");
    await rename(`${file}.tmp`, file);
    expect(mayDo(await source.current(), alice, "creator", "A")).toBe(true);
    expect(reloads).toBe(1);

    await writeFile(file, "grants:\n  - { subject: alice, project: A, role: owner }\n");
    expect(mayDo(await source.current(), alice, "creator", "A")).toBe(true);
    expect(mayDo(await source.current(), alice, "creator", "A")).toBe(true);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/grants\[0\]\.role: unknown role "owner"/);

    await writeFile(file, "grants: []\n");
    expect(mayDo(await source.current(), alice, "viewer", "A")).toBe(false);
  });

  it("is not re-read more often than the check interval", async () => {
    const file = join(dir, "slow.yaml");
    await writeFile(file, "grants:\n  - { subject: alice, project: A, role: viewer }\n");
    const source = await loadPolicyFile(file, { checkIntervalMs: 60_000 });
    await writeFile(file, "grants: []\n");
    expect(mayDo(await source.current(), alice, "viewer", "A")).toBe(true);
  });
});
