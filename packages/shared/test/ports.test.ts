import net from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ephemeralPortsStart, freePort, portFree } from "../src/index.js";

function listenOn(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => resolve(s));
  });
}

describe("local ports", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ports-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads where the ephemeral range starts, and falls back to 32768 when it cannot", async () => {
    await writeFile(join(dir, "range"), "40000\t60999\n");
    expect(ephemeralPortsStart(join(dir, "range"))).toBe(40_000);
    await writeFile(join(dir, "bad"), "nonsense\n");
    expect(ephemeralPortsStart(join(dir, "bad"))).toBe(32_768);
    expect(ephemeralPortsStart(join(dir, "absent"))).toBe(32_768);
  });

  it("picks a port below the ephemeral range, free, and none already taken", async () => {
    const end = ephemeralPortsStart();
    const taken = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const port = await freePort(0, "127.0.0.1", taken);
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(end);
      expect(taken.has(port)).toBe(false);
      taken.add(port);
    }
    const port = [...taken][0]!;
    const s = await listenOn(port);
    try {
      expect(await portFree(port)).toBe(false);
    } finally {
      await new Promise((r) => s.close(r));
    }
    expect(await portFree(port)).toBe(true);
  });

  it("passes over a preferred port that is in use to the next free one, and says when none of 50 is", async () => {
    const base = await freePort(0);
    const s = await listenOn(base);
    try {
      const next = await freePort(base);
      expect(next).toBeGreaterThan(base);
      expect(next).toBeLessThan(base + 50);
      expect(await freePort(base, "127.0.0.1", new Set(Array.from({ length: 50 }, (_, i) => base + i))).catch((e: Error) => e.message)).toBe(
        `no free port from ${base} to ${base + 49}`,
      );
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
