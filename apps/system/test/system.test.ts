import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterAll, describe, expect, it } from "vitest";
import { ReceiptService } from "@provenance/shared";
import { startSystem, SystemStartError } from "../src/start-system.js";

const dataDir = mkdtempSync(join(tmpdir(), "provenance-system-"));
// The embedded PostgreSQL runs as its own OS user, which must be able to enter the data folder.
chmodSync(dataDir, 0o755);

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const hash = (c: string) => c.repeat(64);

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
      const client = createClient(ReceiptService, createGrpcTransport({ baseUrl: first.urls.receipts }));
      const { receipt } = await client.createReceipt({
        segmentId: "seg-restart",
        sceneId: "scene-1",
        projectId: "p-restart",
        characterName: "anna",
        sourceImage: { assetId: "src", contentHash: hash("a") },
        workflow: { assetId: "wf", contentHash: hash("b") },
        model: { assetId: "model", contentHash: hash("c") },
        promptText: "a pier at dusk",
        cfgScale: 7,
        seed: 42n,
        steps: 30,
        sampler: "euler",
        resolutionWidth: 832,
        resolutionHeight: 480,
        generationStartedAt: timestampFromDate(new Date()),
        idempotencyKey: "restart-1",
      });
      receiptId = receipt!.receiptId;
    } finally {
      await first.stop();
    }

    const second = await startSystem({ dataDir, ports: { receipts: 0, staleness: 0, regeneration: 0 }, consolePort: false, logLevel: "silent" });
    try {
      const client = createClient(ReceiptService, createGrpcTransport({ baseUrl: second.urls.receipts }));
      const again = await client.getReceipt({ receiptId });
      expect(again.receipt!.segmentId).toBe("seg-restart");
      expect(second.databaseUrl).toContain("127.0.0.1");
    } finally {
      await second.stop();
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
