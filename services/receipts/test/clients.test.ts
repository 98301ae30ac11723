import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiptRequest, sha, startReceiptsHarness, type ReceiptsHarness } from "./receipts-harness.js";

const exec = promisify(execFile);
let h: ReceiptsHarness;
/** The test admin's bearer token, for the clients that are not ours. */
let token: string;

beforeAll(async () => {
  h = await startReceiptsHarness();
  token = await h.env.token();
});
afterAll(async () => {
  await h?.close();
});

describe("independent clients", () => {
  it("@grpc/grpc-js with proto-loader reading proto/ creates and reads a receipt", async () => {
    const protoDir = fileURLToPath(new URL("../../../proto", import.meta.url));
    const def = await protoLoader.load("provenance/v1/receipts.proto", {
      includeDirs: [protoDir],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const client = new pkg.provenance.v1.ReceiptService(`127.0.0.1:${h.running.port}`, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${token}`);
    const call = <T>(method: string, req: unknown, md: grpc.Metadata = metadata) =>
      new Promise<T>((resolve, reject) => client[method](req, md, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
    try {
      const created = await call<any>("CreateReceipt", {
        segment_id: "seg-grpcjs",
        scene_id: "scene-1",
        project_id: "project-grpcjs",
        character_name: "anna",
        sequence_index: 1,
        source_image: { asset_id: "src", content_hash: sha("src"), version: 1 },
        workflow: { asset_id: "wf", content_hash: sha("wf"), version: 1 },
        model: { asset_id: "model", content_hash: sha("model"), version: 1 },
        loras: [{ asset: { asset_id: "lora", content_hash: sha("lora"), version: 1 }, weight: 0.8 }],
        prompt_text: "a prompt",
        cfg_scale: 7,
        seed: "18446744073709551615",
        steps: 30,
        sampler: "euler",
        resolution_width: 832,
        resolution_height: 480,
        generation_started_at: { seconds: "1763719200", nanos: 0 },
        idempotency_key: "grpcjs-1",
      });
      expect(created.receipt.inputs_hash).toMatch(/^[0-9a-f]{64}$/);
      const got = await call<any>("GetReceipt", { receipt_id: created.receipt.receipt_id });
      expect(got.receipt.segment_id).toBe("seg-grpcjs");
      expect(got.receipt.seed).toBe("18446744073709551615");
      expect(got.receipt.status).toBe("RECEIPT_STATUS_RUNNING");
      const bad = await call<any>("GetReceipt", { receipt_id: "" }).catch((e: grpc.ServiceError) => e);
      expect((bad as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
      const anonymous = await call<any>("GetReceipt", { receipt_id: created.receipt.receipt_id }, new grpc.Metadata()).catch((e: grpc.ServiceError) => e);
      expect((anonymous as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  it("curl over HTTP/1.1 reaches a REST path and a Connect JSON method", async () => {
    const { receipt } = await h.client.createReceipt(receiptRequest({ segmentId: "seg-curl" }));
    const bearer = ["-H", `authorization: Bearer ${token}`];
    const rest = await exec("curl", ["-sS", "--http1.1", ...bearer, "-w", "\\n%{http_code} %{http_version}", `${h.running.url}/api/segments/seg-curl/provenance`]);
    const [body, status] = rest.stdout.trimEnd().split("\n");
    expect(status).toBe("200 1.1");
    const json = JSON.parse(body!);
    expect(json.segment.segmentId).toBe("seg-curl");
    expect(json.history[0].receiptId).toBe(receipt!.receiptId);

    const missing = await exec("curl", ["-sS", "--http1.1", ...bearer, "-w", "\\n%{http_code}", `${h.running.url}/api/segments/nope/provenance`]);
    expect(missing.stdout.trimEnd().split("\n").at(-1)).toBe("404");
    const anonymous = await exec("curl", ["-sS", "--http1.1", "-w", "\\n%{http_code}", `${h.running.url}/api/segments/seg-curl/provenance`]);
    expect(anonymous.stdout.trimEnd().split("\n").at(-1)).toBe("401");

    const connect = await exec("curl", [
      "-sS", "--http1.1", ...bearer, "-H", "content-type: application/json",
      "-d", JSON.stringify({ receipt_id: receipt!.receiptId }),
      `${h.running.url}/provenance.v1.ReceiptService/GetReceipt`,
    ]);
    expect(JSON.parse(connect.stdout).receipt.receiptId).toBe(receipt!.receiptId);

    const usage = await exec("curl", ["-sS", "--http1.1", ...bearer, `${h.running.url}/api/assets/lora-anna/usage`]);
    expect(JSON.parse(usage.stdout).usages.some((u: { segmentId: string }) => u.segmentId === "seg-curl")).toBe(true);
  });
});

describe("operations endpoints", () => {
  it("serves /metrics with RPC latency by method and code and the outbox backlog", async () => {
    await h.client.getSegmentProvenance({ segmentId: "seg-curl" });
    await h.client.getReceipt({ receiptId: "" }).catch(() => undefined);
    const { stdout } = await exec("curl", ["-sS", "--http1.1", `${h.running.url}/metrics`]);
    expect(stdout).toMatch(/rpc_duration_seconds_count\{[^}]*method="GetSegmentProvenance"[^}]*code="ok"[^}]*\} [1-9]/);
    expect(stdout).toMatch(/rpc_duration_seconds_count\{[^}]*method="GetReceipt"[^}]*code="invalid_argument"[^}]*\} [1-9]/);
    expect(stdout).toMatch(/outbox_backlog\{schema="receipts",service="receipts"\} \d+/);
  });

  it("answers /healthz and /readyz", async () => {
    const health = await exec("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `${h.running.url}/healthz`]);
    expect(health.stdout).toBe("200");
    const ready = await exec("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `${h.running.url}/readyz`]);
    expect(ready.stdout).toBe("200");
  });
});
