/** The one test environment: what it gives a service, and the tokens it mints (good and bad) as a service sees them. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_FAILURE_HEADER, createTokenVerifier, loadAuthConfig } from "../src/auth/index.js";
import { ConnectError } from "@connectrpc/connect";
import { createTestEnvironment, TEST_ADMIN, type InvalidTokenKind, type TestEnvironment } from "../src/testing/index.js";

let env: TestEnvironment;
beforeAll(async () => {
  env = await createTestEnvironment({ name: "env_test" });
});
afterAll(async () => {
  await env?.close();
});

describe("createTestEnvironment", () => {
  it("configures a service with its login role, the owner for migrations, the namespace and the issuer", () => {
    const config = env.config("regeneration", { RECEIPTS_URL: "http://127.0.0.1:1" });
    expect(new URL(config.databaseUrl).username).toBe("regeneration_app");
    expect(config.migrationDatabaseUrl).toBe(env.db.url);
    expect(config.eventNamespace).toBe(env.nats.namespace);
    expect(config.port).toBe(0);
    expect(config.receiptsUrl).toBe("http://127.0.0.1:1");
    expect(config.auth).toMatchObject({ issuer: env.issuer.issuer, audience: "provenance", policyFile: env.issuer.policyFile });
    expect(config.auth.serviceTokenFile).toMatch(/^\//);
  });

  it("mints tokens the services accept, and each kind of bad token they refuse for its reason", async () => {
    const verifier = await createTokenVerifier({ ...loadAuthConfig(env.env("receipts")) });
    expect((await verifier.verify(await env.token())).subject).toBe(TEST_ADMIN);
    expect((await verifier.verify(await env.token({ subject: "someone", groups: ["g"] }))).groups).toEqual(["g"]);
    const reasons: Record<InvalidTokenKind, string> = {
      expired: "expired",
      wrong_audience: "wrong_audience",
      wrong_issuer: "wrong_issuer",
      unknown_key: "unknown_key",
      alg_none: "algorithm_not_allowed",
    };
    for (const [kind, reason] of Object.entries(reasons) as [InvalidTokenKind, string][]) {
      const err = await verifier.verify(await env.invalidToken(kind)).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.metadata.get(AUTH_FAILURE_HEADER), kind).toBe(reason);
    }
  });

  it("replaces the grants in the policy file the services read", async () => {
    await env.setGrants([{ subject: "only-me", project: "p", role: "viewer" }], { settle: false });
    expect(env.grants).toEqual([{ subject: "only-me", project: "p", role: "viewer" }]);
    const { loadPolicyFile, roleIn } = await import("../src/auth/index.js");
    const policy = await (await loadPolicyFile(env.issuer.policyFile)).current();
    expect(roleIn(policy, { subject: "only-me", groups: [] }, "p")).toBe("viewer");
    expect(roleIn(policy, { subject: TEST_ADMIN, groups: [] }, "p")).toBeUndefined();
  });
});
