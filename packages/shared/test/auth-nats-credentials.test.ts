/** NATS credentials per service: user/password or a token in NATS_URL, or a NATS_CREDS file (real NKey signatures). */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nkeys } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/index.js";
import { natsAuthOptions, redactUrl } from "../src/auth/index.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-nats-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const credsFile = (jwt: string, seed: string) =>
  ["-----BEGIN NATS USER JWT-----", jwt, "------END NATS USER JWT------", "", "-----BEGIN USER NKEY SEED-----", seed, "------END USER NKEY SEED------", ""].join("\n");

describe("natsAuthOptions", () => {
  it("takes user and password out of the URL, percent-decoded", () => {
    expect(natsAuthOptions("nats://receipts:p%40ss%3Aw0rd@nats.provenance.svc:4222", {})).toEqual({
      servers: "nats://nats.provenance.svc:4222",
      user: "receipts",
      pass: "p@ss:w0rd",
    });
  });

  it("reads a lone user part as a token", () => {
    expect(natsAuthOptions("nats://s3cr3t@127.0.0.1:4222", {})).toEqual({ servers: "nats://127.0.0.1:4222", token: "s3cr3t" });
  });

  it("leaves a URL without credentials as it was", () => {
    expect(natsAuthOptions("nats://127.0.0.1:4222", {})).toEqual({ servers: "nats://127.0.0.1:4222" });
    expect(natsAuthOptions("not a url", {})).toEqual({ servers: "not a url" });
  });

  it("signs the server's nonce with the NKey of a NATS_CREDS file, read again at each connect", async () => {
    const user = nkeys.createUser();
    const file = join(dir, "receipts.creds");
    await writeFile(file, credsFile("eyJ0eXAiOiJKV1QifQ.e30.first", new TextDecoder().decode(user.getSeed())));
    const opts = natsAuthOptions("nats://127.0.0.1:4222", { NATS_CREDS: file });
    expect(opts.servers).toBe("nats://127.0.0.1:4222");
    const authenticator = opts.authenticator as (nonce?: string) => { jwt: string; nkey: string; sig: string };
    const first = authenticator("nonce-1");
    expect(first.jwt).toBe("eyJ0eXAiOiJKV1QifQ.e30.first");
    expect(first.nkey).toBe(user.getPublicKey());
    const verifier = nkeys.fromPublic(user.getPublicKey());
    expect(verifier.verify(new TextEncoder().encode("nonce-1"), new Uint8Array(Buffer.from(first.sig, "base64url")))).toBe(true);
    expect(verifier.verify(new TextEncoder().encode("nonce-X"), new Uint8Array(Buffer.from(first.sig, "base64url")))).toBe(false);

    const rotated = nkeys.createUser();
    await writeFile(file, credsFile("eyJ0eXAiOiJKV1QifQ.e30.second", new TextDecoder().decode(rotated.getSeed())));
    const second = authenticator("nonce-2");
    expect(second.jwt).toBe("eyJ0eXAiOiJKV1QifQ.e30.second");
    expect(second.nkey).toBe(rotated.getPublicKey());
  });

  it("refuses an unreadable NATS_CREDS, and credentials given twice", async () => {
    expect(() => natsAuthOptions("nats://127.0.0.1:4222", { NATS_CREDS: join(dir, "absent.creds") })).toThrow(ConfigError);
    expect(() => natsAuthOptions("nats://127.0.0.1:4222", { NATS_CREDS: join(dir, "absent.creds") })).toThrow(/^NATS_CREDS: cannot read/);
    await writeFile(join(dir, "x.creds"), credsFile("a.b.c", new TextDecoder().decode(nkeys.createUser().getSeed())));
    expect(() => natsAuthOptions("nats://u:p@127.0.0.1:4222", { NATS_CREDS: join(dir, "x.creds") })).toThrow(/^NATS_CREDS: is set and NATS_URL carries credentials too/);
  });
});

describe("redactUrl", () => {
  it("hides the password or token", () => {
    expect(redactUrl("nats://receipts:secret@nats:4222")).toBe("nats://receipts:***@nats:4222");
    expect(redactUrl("nats://tok@nats:4222")).toBe("nats://***@nats:4222");
    expect(redactUrl("nats://nats:4222")).toBe("nats://nats:4222");
  });
});
