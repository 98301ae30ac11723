import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedDatabase } from "../src/embedded-database.js";
import { binariesIn, installedBinaries } from "../src/postgres-binaries.js";
import { freePort } from "@provenance/shared";
import { SystemStartError } from "../src/system-start-error.js";
import { childrenOf } from "./launcher-harness.js";

const folders: string[] = [];

/** A fresh temp folder; `reachable`: 0755, so the postgres OS user can enter it. */
function folder(reachable = true): string {
  const dir = mkdtempSync(join(tmpdir(), "provenance-embedded-"));
  if (reachable) chmodSync(dir, 0o755);
  folders.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const postgresChildren = () => childrenOf(process.pid).filter((c) => c.name === "postgres");

describe("an embedded PostgreSQL that cannot start", () => {
  it("says in one line that its port is in use, and removes the data directory this attempt created", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = folder();
    try {
      const err = await startEmbeddedDatabase({ dataDir, port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SystemStartError);
      expect((err as Error).message).toBe(
        `the embedded PostgreSQL could not listen on 127.0.0.1:${port} (address already in use): set EMBEDDED_PG_PORT to a free port, or set DATABASE_URL to use another PostgreSQL`,
      );
      expect(existsSync(join(dataDir, "postgres"))).toBe(false);
      expect(readdirSync(dataDir).filter((f) => f.includes("pwfile"))).toEqual([]);
      expect(postgresChildren()).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it("says in one line that a data directory without a database is not empty, and leaves it as it was", async () => {
    const dataDir = folder();
    mkdirSync(join(dataDir, "postgres"));
    writeFileSync(join(dataDir, "postgres", "notes.txt"), "not a cluster");
    const err = await startEmbeddedDatabase({ dataDir, port: await freePort(0) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SystemStartError);
    expect((err as Error).message).toBe(
      `the embedded PostgreSQL's data directory ${join(dataDir, "postgres")} is not empty but holds no database: move it away and start again, or set DATABASE_URL to use another PostgreSQL`,
    );
    expect(readdirSync(join(dataDir, "postgres"))).toEqual(["notes.txt"]);
    expect(postgresChildren()).toEqual([]);
  });
});

describe("binaries the postgres OS user cannot reach", () => {
  it("as root, runs a copy of them in a place it can reach, with password authentication", async () => {
    const installed = await installedBinaries();
    // The installed binaries behind a 0700 folder, as node_modules is in a clone under /root.
    const hidden = folder(false);
    symlinkSync(installed.root, join(hidden, "pg"));
    const version = `test-${process.pid}`;
    const reachableRoot = folder();
    const dataDir = folder();
    const db = await startEmbeddedDatabase({ dataDir, port: await freePort(0), binaries: binariesIn(join(hidden, "pg"), version), reachableRoot });
    try {
      if (process.getuid?.() === 0) {
        expect(db.binaries.root).toBe(join(reachableRoot, `postgres-${version}`));
        expect(db.binaries.copiedFrom).toBe(join(hidden, "pg"));
      } else {
        expect(db.binaries.root).toBe(join(hidden, "pg"));
      }
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        expect((await client.query("SELECT current_database() AS db")).rows).toEqual([{ db: "provenance" }]);
      } finally {
        await client.end();
      }
      const wrong = new pg.Client({ connectionString: db.url.replace(":postgres@", ":wrong@") });
      await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    } finally {
      await db.stop();
    }
    expect(postgresChildren()).toEqual([]);
  });
});
