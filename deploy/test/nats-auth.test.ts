/**
 * The NATS authorization shipped in deploy/nats/, proven against a real nats-server (Debian's, or $NATS_SERVER)
 * started with those very files on a free loopback port and its own store directory. Each service connects the way it
 * does in production (connectNats with user:password in NATS_URL), creates its streams and its durable consumer with
 * the shared code, publishes its own subjects, and is refused another's; the notifications user may only listen to
 * staleness changes; a wrong password is refused.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { PermissionViolationError, type NatsConnection } from "@nats-io/transport-node";
import {
  ASSET_VERSION_PUBLISHED,
  JOB_REQUESTED,
  RECEIPT_COMPLETED,
  RECEIPT_CREATED,
  STALENESS_DETECTED_ALL,
  connectNats,
  createLogger,
  ensureStreams,
  stalenessDetectedSubject,
  startConsumer,
  type ConsumedEvent,
} from "@provenance/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const CONFIG = fileURLToPath(new URL("../nats/nats-server.conf", import.meta.url));
const NATS_SERVER = process.env.NATS_SERVER ?? "/usr/sbin/nats-server";
const USERS = ["receipts", "staleness", "regeneration", "pipeline-simulator", "notifications"] as const;
type User = (typeof USERS)[number];
const passwordVariable = (user: User) => `NATS_${user.toUpperCase().replace(/-/g, "_")}_PASSWORD`;
const logger = createLogger("nats-auth-test", "silent");

let server: ChildProcess;
let storeDir: string;
let port: number;
const passwords = Object.fromEntries(USERS.map((u) => [u, `p${randomBytes(18).toString("base64url")}`])) as Record<User, string>;
const open: NatsConnection[] = [];

async function startNatsServer(): Promise<void> {
  storeDir = await mkdtemp(join(tmpdir(), "nats-auth-"));
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", NATS_STORE_DIR: storeDir };
  for (const u of USERS) env[passwordVariable(u)] = passwords[u];
  server = spawn(NATS_SERVER, ["-c", CONFIG, "-a", "127.0.0.1", "-p", "-1", "-m", "-1"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  port = await new Promise<number>((resolve, reject) => {
    let found: number | undefined;
    const timer = setTimeout(() => reject(new Error(`nats-server did not start within 10 s:\n${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      found ??= Number(/Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]) || undefined;
      if (found !== undefined && output.includes("Server is ready")) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    server.stdout!.on("data", onData);
    server.stderr!.on("data", onData);
    server.once("error", (err) => reject(err));
    server.once("exit", (code) => reject(new Error(`nats-server exited with ${code}:\n${output}`)));
  });
}

const urlOf = (user: string, password: string) => `nats://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;

/** Connects as `user` the way a service does (NATS_URL with credentials), collecting permission violations. */
async function connectAs(user: User): Promise<{ nc: NatsConnection; violations: PermissionViolationError[] }> {
  const nc = await connectNats(urlOf(user, passwords[user]), `test-${user}`);
  open.push(nc);
  const violations: PermissionViolationError[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === "error" && s.error instanceof PermissionViolationError) violations.push(s.error);
  })();
  return { nc, violations };
}

/** Publishes on core NATS and waits for the server's verdict (a PING/PONG after the PUB). */
async function publishCore(c: { nc: NatsConnection; violations: PermissionViolationError[] }, subject: string): Promise<"ok" | "denied"> {
  const before = c.violations.length;
  c.nc.publish(subject, new TextEncoder().encode("x"));
  await c.nc.flush();
  await new Promise((r) => setTimeout(r, 20));
  return c.violations.slice(before).some((v) => v.operation === "publish" && v.subject === subject) ? "denied" : "ok";
}

/** Publishes through JetStream, as the outbox relay does; resolves to the stream that stored it, or "denied". */
async function publishJs(nc: NatsConnection, subject: string): Promise<string> {
  try {
    const ack = await jetstream(nc).publish(subject, new TextEncoder().encode("x"), { msgID: randomUUID(), timeout: 2_000 });
    return ack.stream;
  } catch (err) {
    if (err instanceof PermissionViolationError) return "denied";
    if ((err as Error).message.toLowerCase().includes("permissions violation")) return "denied";
    throw err;
  }
}

/** Subscribes and waits for the server's verdict on the subscription. */
async function subscribe(c: { nc: NatsConnection; violations: PermissionViolationError[] }, subject: string): Promise<"ok" | "denied"> {
  const before = c.violations.length;
  const sub = c.nc.subscribe(subject);
  await c.nc.flush();
  await new Promise((r) => setTimeout(r, 20));
  const denied = c.violations.slice(before).some((v) => v.operation === "subscription" && v.subject === subject);
  if (!denied) sub.unsubscribe();
  return denied ? "denied" : "ok";
}

async function streamMessages(nc: NatsConnection, stream: string): Promise<number> {
  return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
}

beforeAll(async () => {
  await startNatsServer();
});

afterAll(async () => {
  await Promise.allSettled(open.map((nc) => nc.close()));
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await exited;
  }
  if (storeDir) await rm(storeDir, { recursive: true, force: true });
});

describe("the shipped NATS authorization", () => {
  it("lets each service ensure the streams and publish its own subjects through JetStream", async () => {
    const receipts = await connectAs("receipts");
    const staleness = await connectAs("staleness");
    const regeneration = await connectAs("regeneration");
    for (const c of [receipts, staleness, regeneration]) await ensureStreams(c.nc, "");
    expect(await publishJs(receipts.nc, RECEIPT_CREATED)).toBe("PROVENANCE");
    expect(await publishJs(receipts.nc, RECEIPT_COMPLETED)).toBe("PROVENANCE");
    expect(await publishJs(receipts.nc, "provenance.receipt.tampered")).toBe("PROVENANCE");
    expect(await publishJs(staleness.nc, ASSET_VERSION_PUBLISHED)).toBe("PROVENANCE");
    expect(await publishJs(staleness.nc, stalenessDetectedSubject("project-1"))).toBe("PROVENANCE");
    expect(await publishJs(regeneration.nc, JOB_REQUESTED)).toBe("GENERATION");
    expect([...receipts.violations, ...staleness.violations, ...regeneration.violations]).toEqual([]);
  });

  it("refuses a service's publish on another's subjects, and stores nothing", async () => {
    const receipts = await connectAs("receipts");
    const staleness = await connectAs("staleness");
    const regeneration = await connectAs("regeneration");
    const simulator = await connectAs("pipeline-simulator");
    const provenanceBefore = await streamMessages(receipts.nc, "PROVENANCE");
    const generationBefore = await streamMessages(receipts.nc, "GENERATION");

    const attempts: [typeof receipts, string][] = [
      [receipts, ASSET_VERSION_PUBLISHED],
      [receipts, stalenessDetectedSubject("project-1")],
      [receipts, JOB_REQUESTED],
      [staleness, RECEIPT_CREATED],
      [staleness, JOB_REQUESTED],
      [regeneration, RECEIPT_COMPLETED],
      [regeneration, ASSET_VERSION_PUBLISHED],
      [simulator, JOB_REQUESTED],
      [simulator, RECEIPT_CREATED],
    ];
    for (const [c, subject] of attempts) {
      expect(await publishJs(c.nc, subject), subject).toBe("denied");
      expect(await publishCore(c, subject), subject).toBe("denied");
    }
    // Nor the JetStream API of what is not theirs.
    expect(await publishCore(receipts, "$JS.API.STREAM.DELETE.PROVENANCE")).toBe("denied");
    expect(await publishCore(staleness, "$JS.API.STREAM.PURGE.PROVENANCE")).toBe("denied");
    expect(await publishCore(simulator, "$JS.API.STREAM.CREATE.GENERATION")).toBe("denied");
    expect(await publishCore(receipts, "$JS.API.CONSUMER.DURABLE.CREATE.PROVENANCE.staleness-receipt-projection")).toBe("denied");
    expect(await publishCore(regeneration, "$JS.ACK.PROVENANCE.staleness-receipt-projection.1.1.1.1.0")).toBe("denied");
    expect(await publishCore(receipts, "anything.else")).toBe("denied");

    expect(await streamMessages(receipts.nc, "PROVENANCE")).toBe(provenanceBefore);
    expect(await streamMessages(receipts.nc, "GENERATION")).toBe(generationBefore);
  });

  it("lets each consumer create its own durable, receive and ack; refuses another's durable", async () => {
    const receipts = await connectAs("receipts");
    const staleness = await connectAs("staleness");
    const regeneration = await connectAs("regeneration");
    const simulator = await connectAs("pipeline-simulator");
    await ensureStreams(receipts.nc, "");

    const got: Record<string, string[]> = { staleness: [], regeneration: [], simulator: [] };
    const consumer = (nc: NatsConnection, stream: "PROVENANCE" | "GENERATION", durable: string, filterSubjects: string[], into: string[]) =>
      startConsumer({ nc, namespace: "", stream, durable, filterSubjects, logger, handle: async (e: ConsumedEvent) => void into.push(e.subject) });
    const consumers = [
      await consumer(staleness.nc, "PROVENANCE", "staleness-receipt-projection", [RECEIPT_CREATED, RECEIPT_COMPLETED], got.staleness!),
      await consumer(regeneration.nc, "PROVENANCE", "regeneration-job-lifecycle", [RECEIPT_CREATED, RECEIPT_COMPLETED], got.regeneration!),
      await consumer(simulator.nc, "GENERATION", "pipeline-simulator", [JOB_REQUESTED], got.simulator!),
    ];
    try {
      expect(await publishJs(receipts.nc, RECEIPT_COMPLETED)).toBe("PROVENANCE");
      expect(await publishJs(regeneration.nc, JOB_REQUESTED)).toBe("GENERATION");
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !(got.staleness!.includes(RECEIPT_COMPLETED) && got.regeneration!.includes(RECEIPT_COMPLETED) && got.simulator!.includes(JOB_REQUESTED))) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(got.staleness).toContain(RECEIPT_COMPLETED);
      expect(got.regeneration).toContain(RECEIPT_COMPLETED);
      expect(got.simulator).toContain(JOB_REQUESTED);
      // Acked: nothing left pending for any of them.
      for (const c of consumers) {
        const end = Date.now() + 5_000;
        while (Date.now() < end && (await c.lag()) > 0) await new Promise((r) => setTimeout(r, 50));
        expect(await c.lag()).toBe(0);
      }
      expect([...staleness.violations, ...regeneration.violations, ...simulator.violations]).toEqual([]);
    } finally {
      await Promise.all(consumers.map((c) => c.stop()));
    }

    await expect(consumer(receipts.nc, "PROVENANCE", "staleness-receipt-projection", [RECEIPT_CREATED], [])).rejects.toThrow();
    await expect(consumer(simulator.nc, "PROVENANCE", "pipeline-simulator", [RECEIPT_CREATED], [])).rejects.toThrow();
    await expect(consumer(staleness.nc, "PROVENANCE", "someone-else", [RECEIPT_CREATED], [])).rejects.toThrow();
  });

  it("lets staleness watch staleness changes for WatchStaleness", async () => {
    const staleness = await connectAs("staleness");
    expect(await subscribe(staleness, STALENESS_DETECTED_ALL)).toBe("ok");
    expect(await subscribe(staleness, "provenance.receipt.>")).toBe("denied");
  });

  it("lets notifications subscribe to provenance.staleness.detected.> only, and publish nothing", async () => {
    const notifications = await connectAs("notifications");
    const staleness = await connectAs("staleness");
    const sub = notifications.nc.subscribe(STALENESS_DETECTED_ALL);
    await notifications.nc.flush();
    expect(await publishJs(staleness.nc, stalenessDetectedSubject("project-7"))).toBe("PROVENANCE");
    const received = await (async () => {
      for await (const m of sub) return m.subject;
      return undefined;
    })();
    expect(received).toBe("provenance.staleness.detected.project-7");
    expect(notifications.violations).toEqual([]);

    expect(await subscribe(notifications, "provenance.receipt.>")).toBe("denied");
    expect(await subscribe(notifications, ">")).toBe("denied");
    expect(await subscribe(notifications, "_INBOX.>")).toBe("denied");
    for (const subject of [stalenessDetectedSubject("project-7"), RECEIPT_CREATED, JOB_REQUESTED, "$JS.API.INFO", "_INBOX.x"]) {
      expect(await publishCore(notifications, subject), subject).toBe("denied");
    }
  });

  it("refuses a wrong password, another user's password, and no credentials", async () => {
    await expect(connectNats(urlOf("receipts", "not-the-password"), "test-wrong")).rejects.toThrow(/Authorization Violation/i);
    await expect(connectNats(urlOf("receipts", passwords.staleness), "test-swapped")).rejects.toThrow(/Authorization Violation/i);
    await expect(connectNats(`nats://127.0.0.1:${port}`, "test-anonymous")).rejects.toThrow(/Authorization Violation/i);
    await expect(connectNats(urlOf("admin", "admin"), "test-unknown-user")).rejects.toThrow(/Authorization Violation/i);
  });
});
