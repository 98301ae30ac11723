/** The console's Content Credentials settings from env (CONSOLE_C2PA_CERT, CONSOLE_C2PA_KEY, CONSOLE_C2PA_MAX_BYTES). */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { c2paOptionsFromEnv, DEFAULT_C2PA_MAX_BYTES } from "../server/src/serve.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "console-c2pa-env-"));
  await writeFile(join(dir, "cert.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  await writeFile(join(dir, "key.pem"), "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("c2paOptionsFromEnv", () => {
  it("defaults to the local certificate under <data dir>/c2pa and 256 MiB", () => {
    expect(c2paOptionsFromEnv({}, "/data")).toEqual({ maxBytes: DEFAULT_C2PA_MAX_BYTES, signer: { mode: "local", directory: join("/data", "c2pa") } });
    expect(DEFAULT_C2PA_MAX_BYTES).toBe(256 * 1024 * 1024);
  });

  it("reads a configured certificate and key, and the size limit", () => {
    const options = c2paOptionsFromEnv({ CONSOLE_C2PA_CERT: join(dir, "cert.pem"), CONSOLE_C2PA_KEY: join(dir, "key.pem"), CONSOLE_C2PA_MAX_BYTES: "1048576" }, "/data");
    expect(options.maxBytes).toBe(1_048_576);
    expect(options.signer).toMatchObject({ mode: "configured", name: join(dir, "cert.pem") });
    expect(options.signer.mode === "configured" && options.signer.certPem).toContain("BEGIN CERTIFICATE");
    expect(options.signer.mode === "configured" && options.signer.keyPem).toContain("BEGIN PRIVATE KEY");
  });

  it("refuses one of the pair without the other, an unreadable file and a bad limit, naming the variable", () => {
    expect(() => c2paOptionsFromEnv({ CONSOLE_C2PA_CERT: join(dir, "cert.pem") }, "/data")).toThrow(/^CONSOLE_C2PA_CERT is set but CONSOLE_C2PA_KEY is not/);
    expect(() => c2paOptionsFromEnv({ CONSOLE_C2PA_KEY: join(dir, "key.pem") }, "/data")).toThrow(/^CONSOLE_C2PA_KEY is set but CONSOLE_C2PA_CERT is not/);
    expect(() => c2paOptionsFromEnv({ CONSOLE_C2PA_CERT: join(dir, "none.pem"), CONSOLE_C2PA_KEY: join(dir, "key.pem") }, "/data")).toThrow(/^CONSOLE_C2PA_CERT: cannot read .*none\.pem \(ENOENT\)/);
    for (const bad of ["0", "-5", "1e6", "12MB"]) {
      expect(() => c2paOptionsFromEnv({ CONSOLE_C2PA_MAX_BYTES: bad }, "/data")).toThrow(/^CONSOLE_C2PA_MAX_BYTES must be a positive number of bytes/);
    }
  });
});
