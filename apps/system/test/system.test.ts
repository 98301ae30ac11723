import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it } from "vitest";
import { ReceiptService } from "@provenance/shared";
import { createOutboundAuthInterceptor, parsePolicy, roleIn, staticTokenSource } from "@provenance/shared/auth";
import { createTestDatabase, sampleCreateReceipt } from "@provenance/shared/testing";
import { startSystem, SystemStartError, type RunningSystem } from "../src/start-system.js";
import { LAUNCHER_SUBJECTS } from "../src/system-access.js";

const dataDir = mkdtempSync(join(tmpdir(), "provenance-system-"));
// The embedded PostgreSQL runs as its own OS user, which must be able to enter the data folder.
chmodSync(dataDir, 0o755);

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});


/** A ReceiptService client of `system` signed in as its local user. */
async function signedIn(system: RunningSystem) {
  const token = await system.issuer!.mintToken();
  return createClient(ReceiptService, createGrpcTransport({ baseUrl: system.urls.receipts, interceptors: [createOutboundAuthInterceptor({ serviceToken: staticTokenSource(token) })] }));
}

describe("the system as npm start runs it", () => {
  it("starts with an embedded PostgreSQL and a private NATS, keeps a receipt across a restart", async () => {
    const lines: string[] = [];
    const first = await startSystem({
      dataDir,
      ports: { receipts: 0, staleness: 0, regeneration: 0 },
      consolePort: 0,
      logLevel: "silent",
      say: (l) => lines.push(l),
    });
    let receiptId: string;
    try {
      expect(lines.some((l) => l.startsWith("database     embedded PostgreSQL"))).toBe(true);
      expect(lines.some((l) => l.startsWith("events       private nats-server"))).toBe(true);
      expect(lines.filter((l) => /^(receipts|staleness|regeneration) +http:\/\/127\.0\.0\.1:\d+$/.test(l))).toHaveLength(3);
      const consoleLine = lines.find((l) => l.startsWith("console      http://"));
      expect(consoleLine).toBeDefined();
      const page = await fetch(consoleLine!.split(/\s+/)[1]!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<div id=\"root\">");
      const client = await signedIn(first);
      const { receipt } = await client.createReceipt(sampleCreateReceipt({ segmentId: "seg-restart", projectId: "p-restart", idempotencyKey: "restart-1" }));
      receiptId = receipt!.receiptId;
    } finally {
      await first.stop();
    }

    const second = await startSystem({ dataDir, ports: { receipts: 0, staleness: 0, regeneration: 0 }, consolePort: false, logLevel: "silent" });
    try {
      const client = await signedIn(second);
      const again = await client.getReceipt({ receiptId });
      expect(again.receipt!.segmentId).toBe("seg-restart");
      expect(second.databaseUrl).toContain("127.0.0.1");
    } finally {
      await second.stop();
    }
  });

  it("comes up signed in with no configuration: the local issuer, the local user admin on every project, the console signed in", async () => {
    const lines: string[] = [];
    const system = await startSystem({ dataDir, ports: { receipts: 0, staleness: 0, regeneration: 0 }, consolePort: 0, logLevel: "silent", say: (l) => lines.push(l) });
    try {
      expect(system.accessMode).toBe("local");
      const user = `local:${userInfo().username}`;
      expect(system.issuer!.subject).toBe(user);
      expect(lines).toContain(`access       local issuer: signed in as ${user} (admin on every project); npx provenance auth token prints a token`);
      // The services check tokens: none is UNAUTHENTICATED, the local user's is accepted.
      const anonymous = createClient(ReceiptService, createGrpcTransport({ baseUrl: system.urls.receipts }));
      const refused = await anonymous.listProjects({}).catch((e: unknown) => ConnectError.from(e));
      expect(refused).toBeInstanceOf(ConnectError);
      expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
      await expect((await signedIn(system)).listProjects({})).resolves.toBeDefined();
      // The policy grants the local user admin and the launcher's own processes what they need.
      const policy = parsePolicy(readFileSync(join(dataDir, "auth", "policy.yaml"), "utf8"));
      expect(roleIn(policy, { subject: user, groups: [] }, "*")).toBe("admin");
      expect(roleIn(policy, { subject: LAUNCHER_SUBJECTS.simulator, groups: [] }, "*")).toBe("pipeline");
      // The console signs the browser in as the local user, and its proxy presents the user's token.
      const session = await fetch(`${system.consoleUrl}/auth/session`);
      expect(await session.json()).toEqual({ signedIn: true, subject: user, name: user, signIn: "local" });
      const cookie = session.headers.getSetCookie().find((c) => c.startsWith("provenance_console_session="))!.split(";")[0]!;
      const viaConsole = await fetch(`${system.consoleUrl}/svc/receipts/provenance.v1.ReceiptService/ListProjects`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: "{}",
      });
      expect(viaConsole.status).toBe(200);
      const withoutSession = await fetch(`${system.consoleUrl}/svc/receipts/provenance.v1.ReceiptService/ListProjects`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(withoutSession.status).toBe(401);
    } finally {
      await system.stop();
    }
  });

  it("refuses, in one line naming the variable, AUTH_JWKS without AUTH_ISSUER, and a simulator without SERVICE_TOKEN_FILE", async () => {
    const base = { dataDir, ports: { receipts: 0, staleness: 0, regeneration: 0 }, consolePort: false as const, logLevel: "silent" as const };
    const jwks = join(dataDir, "auth", "jwks.json");
    const policy = join(dataDir, "auth", "policy.yaml");
    await expect(startSystem({ ...base, authEnv: { AUTH_JWKS: jwks, AUTH_POLICY: policy } })).rejects.toThrow(/^AUTH_ISSUER: is required/);
    await expect(startSystem({ ...base, authEnv: { AUTH_JWKS: jwks, AUTH_ISSUER: "provenance-local", AUTH_POLICY: policy } })).rejects.toThrow(
      /^SERVICE_TOKEN_FILE is required with AUTH_JWKS: the pipeline simulator presents it/,
    );
  });

  it("a service started without AUTH_* refuses to start, in one line naming AUTH_JWKS", async () => {
    const db = await createTestDatabase("system_noauth");
    try {
      const main = fileURLToPath(import.meta.resolve("@provenance/receipts/start")).replace(/\/(src|dist)\/start\.(ts|js)$/, "/dist/main.js");
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, DATABASE_URL: db.url, PORT: "0", HOST: "127.0.0.1", NATS_URL: "nats://127.0.0.1:4222" };
      const run = spawnSync(process.execPath, [main], { env, encoding: "utf8", timeout: 30_000 });
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(/AUTH_JWKS: is required/);
    } finally {
      await db.drop();
    }
  });

  it("says in one line which port is in use, and starts nothing", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const err = await startSystem({ dataDir, ports: { receipts: port }, logLevel: "silent" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SystemStartError);
      expect((err as Error).message).toBe(
        `port ${port} for the receipts service is already in use on 127.0.0.1: stop what uses it, or set RECEIPTS_PORT`,
      );
    } finally {
      blocker.close();
    }
  });
});
