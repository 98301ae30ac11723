import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildLauncher, gone, holdRequest, launch, ready, recordReceipt, running, segmentOf, stopEverything, type Launcher } from "./launcher-harness.js";

const STOPPING = "stopping… (Ctrl-C again to force)";
const cleanups: (() => void)[] = [];

/** A data directory in a fresh temp folder; `reachable`: the folder is 0755, as a clone under /home would be. */
function dataDir(reachable = true): string {
  const parent = mkdtempSync(join(tmpdir(), "provenance-launcher-"));
  if (reachable) chmodSync(parent, 0o755);
  cleanups.push(() => rmSync(parent, { recursive: true, force: true }));
  return join(parent, ".data");
}

/** What the launcher printed after its `ready` line. */
function afterReady(l: Launcher): string[] {
  const lines = l.lines();
  return lines.slice(lines.findIndex((x) => x.startsWith("ready ")) + 1);
}

async function stopCleanly(l: Launcher): Promise<void> {
  const t0 = Date.now();
  l.signalGroup("SIGINT");
  const end = await l.ended;
  expect({ code: end.code, stderr: l.stderr() }).toEqual({ code: 0, stderr: "" });
  expect(end.at - t0).toBeLessThan(10_000);
  expect(afterReady(l)).toEqual([STOPPING, "stopped"]);
}

beforeAll(() => {
  buildLauncher();
});

afterEach(async () => {
  await stopEverything();
});

afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("npm start in a terminal", () => {
  it("stops on Ctrl-C to its process group within 10 s, in two short lines, leaving no server running; a restart keeps a receipt", async () => {
    const dir = dataDir();
    const first = await launch(dir);
    const { postgres, nats, receiptsUrl } = await ready(first);
    const receiptId = await recordReceipt(dir, receiptsUrl, "seg-ctrl-c");

    const t0 = Date.now();
    first.signalGroup("SIGINT");
    const end = await first.ended;
    expect(end.code).toBe(0);
    expect(end.at - t0).toBeLessThan(10_000);
    expect(afterReady(first)).toEqual([STOPPING, "stopped"]);
    expect(first.stderr()).toBe("");
    expect(first.stdout()).not.toContain("{");
    expect(await gone([postgres, nats])).toEqual([]);

    const second = await launch(dir);
    const again = await ready(second);
    expect(await segmentOf(dir, again.receiptsUrl, receiptId)).toBe("seg-ctrl-c");
    await stopCleanly(second);
    expect(await gone([again.postgres, again.nats])).toEqual([]);
  });

  it("stops PostgreSQL and NATS at once on a second Ctrl-C, exit 130", async () => {
    const l = await launch(dataDir());
    const { postgres, nats, receiptsUrl } = await ready(l);
    const held = await holdRequest(receiptsUrl);
    try {
      l.signalGroup("SIGINT");
      await l.line(/^stopping…/);
      const t0 = Date.now();
      l.signalGroup("SIGINT");
      const end = await l.ended;
      expect(end.code).toBe(130);
      expect(end.at - t0).toBeLessThan(4_000);
      expect(afterReady(l)).toEqual([STOPPING, "stopped (forced)"]);
      expect(l.stderr()).toBe("");
      expect(await gone([postgres, nats])).toEqual([]);
    } finally {
      held.destroy();
    }
  });

  it("takes a SIGTERM during the stop as forcing it, exit 143", async () => {
    const l = await launch(dataDir());
    const { postgres, nats, receiptsUrl } = await ready(l);
    const held = await holdRequest(receiptsUrl);
    try {
      l.signalGroup("SIGINT");
      await l.line(/^stopping…/);
      l.signalGroup("SIGTERM");
      const end = await l.ended;
      expect(end.code).toBe(143);
      expect(afterReady(l)).toEqual([STOPPING, "stopped (forced)"]);
      expect(await gone([postgres, nats])).toEqual([]);
    } finally {
      held.destroy();
    }
  });

  it("forces a stop that hangs after 8 s, in one line, exit 1", async () => {
    const l = await launch(dataDir());
    const { postgres, nats, receiptsUrl } = await ready(l);
    const held = await holdRequest(receiptsUrl);
    try {
      const t0 = Date.now();
      l.signalGroup("SIGINT");
      const end = await l.ended;
      expect(end.code).toBe(1);
      expect(end.at - t0).toBeGreaterThanOrEqual(8_000);
      expect(end.at - t0).toBeLessThan(10_000);
      expect(afterReady(l)).toEqual([STOPPING]);
      expect(l.stderr()).toBe("provenance: stopping took longer than 8 s; stopped PostgreSQL and NATS at once\n");
      expect(await gone([postgres, nats])).toEqual([]);
    } finally {
      held.destroy();
    }
  });
});

describe("one npm start per data directory", () => {
  it("refuses a second start in one line while the first runs, and the first keeps serving", async () => {
    const dir = dataDir();
    const first = await launch(dir);
    const { postgres, nats, receiptsUrl } = await ready(first);

    const second = await launch(dir);
    const end = await second.ended;
    expect(end.code).toBe(1);
    expect(second.stderr()).toBe(`provenance: another npm start (pid ${first.pid}) is using ${dir}; stop it first\n`);
    expect(second.stdout()).toBe("");

    expect([running(postgres), running(nats)]).toEqual([true, true]);
    const receiptId = await recordReceipt(dir, receiptsUrl, "seg-still-serving");
    expect(await segmentOf(dir, receiptsUrl, receiptId)).toBe("seg-still-serving");
    await stopCleanly(first);
  });

  it("stops what a killed launcher left running, saying so in one line, and starts", async () => {
    const dir = dataDir();
    const killed = await launch(dir);
    const orphans = await ready(killed);
    process.kill(killed.pid, "SIGKILL");
    await killed.ended;
    // Only the launcher was killed: its PostgreSQL and nats-server are still there.
    expect([running(orphans.postgres), running(orphans.nats)]).toEqual([true, true]);

    const next = await launch(dir);
    const now = await ready(next);
    expect(next.lines()[0]).toBe(
      `cleanup      stopped what an earlier npm start (pid ${killed.pid}) left running: PostgreSQL (pid ${orphans.postgres}), nats-server (pid ${orphans.nats})`,
    );
    expect(await gone([orphans.postgres, orphans.nats])).toEqual([]);
    const receiptId = await recordReceipt(dir, now.receiptsUrl, "seg-after-orphans");
    expect(await segmentOf(dir, now.receiptsUrl, receiptId)).toBe("seg-after-orphans");
    await stopCleanly(next);
  });
});

describe("a data directory the postgres OS user cannot enter", () => {
  it("starts from a 0700 folder (as root: the cluster under /var/lib/provenance) and keeps its data, leaving no password file", async () => {
    const passwordFiles = () => readdirSync(tmpdir()).filter((f) => f.startsWith("pg-password-"));
    const before = passwordFiles();
    const dir = dataDir(false);
    const first = await launch(dir);
    const { receiptsUrl } = await ready(first);
    const line = first.lines().find((l) => l.startsWith("database     "))!;
    if (process.getuid?.() === 0) {
      expect(line).toMatch(
        new RegExp(`^database     embedded PostgreSQL on 127\\.0\\.0\\.1:\\d+, data in /var/lib/provenance/[\\w.-]+-[0-9a-f]{12}/data \\(the postgres OS user cannot enter ${dir.replace(/[.]/g, "\\.")}\\)(, binaries in /var/lib/provenance/postgres-\\S+ \\(the postgres OS user cannot reach \\S+\\))?$`),
      );
      const relocated = dirname(line.split(" data in ")[1]!.split(" ")[0]!);
      cleanups.push(() => rmSync(relocated, { recursive: true, force: true }));
    } else {
      expect(line).toContain(`data in ${join(dir, "postgres")}`);
    }
    const receiptId = await recordReceipt(dir, receiptsUrl, "seg-0700");
    await stopCleanly(first);

    const second = await launch(dir);
    const again = await ready(second);
    // The same cluster, wherever it is.
    const dataIn = (l: string | undefined) => l?.split(" data in ")[1];
    expect(dataIn(second.lines().find((l) => l.startsWith("database     ")))).toBe(dataIn(line));
    expect(await segmentOf(dir, again.receiptsUrl, receiptId)).toBe("seg-0700");
    await stopCleanly(second);
    expect(passwordFiles()).toEqual(before);
  });
});
