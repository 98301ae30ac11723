// Offers single CreateReceipt + CompleteReceipt pairs at a fixed rate to a receipts service process on a scratch
// database and prints latency per pair from each pair's scheduled start (open loop, no coordinated omission).
// Build first (npm run build -w @provenance/shared -w @provenance/receipts), then from services/receipts:
//   node scripts/single-pairs.mjs [pairs/s = 200] [seconds = 20] [RECEIPT_GROUP_COMMIT_MAX_SIZE, e.g. 1 = no grouping]
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReceiptService, ReceiptStatus } from "@provenance/shared";
import { createTestEnvironment } from "@provenance/shared/testing";

const [rate = 200, seconds = 20] = process.argv.slice(2, 4).map(Number);
const groupMax = process.argv[4];
const sha = (s) => createHash("sha256").update(s).digest("hex");
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer().once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const env = await createTestEnvironment({ name: "receipts_pairs" });
const port = await freePort();
const extra = { PORT: String(port), LOG_LEVEL: process.env.PAIRS_LOG_LEVEL ?? "warn", ...(groupMax ? { RECEIPT_GROUP_COMMIT_MAX_SIZE: groupMax } : {}) };
// PAIRS_CPU_PROF_DIR=dir: the service writes a CPU profile there when it stops.
const prof = process.env.PAIRS_CPU_PROF_DIR ? ["--cpu-prof", "--cpu-prof-dir", process.env.PAIRS_CPU_PROF_DIR] : [];
const child = spawn(process.execPath, [...prof, fileURLToPath(new URL("../dist/main.js", import.meta.url))], {
  env: { ...process.env, ...env.env("receipts", extra) },
  stdio: ["ignore", "inherit", "inherit"],
});
const url = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
  if (i > 300) throw new Error("receipts did not become ready");
  if (i % 20 === 19) console.error("waiting for", url, await fetch(`${url}/readyz`).then((r) => r.status + " " + r.statusText, (e) => String(e.cause ?? e)));
  await new Promise((r) => setTimeout(r, 100));
}
const client = env.client(ReceiptService, url);
const asset = (id, v = 1) => ({ assetId: id, contentHash: sha(id), version: v });
let n = 0;
async function pair() {
  const i = n++;
  const { receipt } = await client.createReceipt({
    segmentId: `pair-seg-${i}`, sceneId: `scene-${i % 50}`, projectId: `project-${i % 5}`, characterName: "anna", sequenceIndex: i,
    sourceImage: asset("src"), workflow: asset("wf"), model: asset("model"), loras: [{ asset: asset("lora"), weight: 0.8 }],
    workflowVersion: "i2v-3", promptText: `prompt ${i}`, negativePrompt: "", cfgScale: 7, seed: BigInt(i), steps: 30,
    sampler: "euler", resolutionWidth: 832, resolutionHeight: 480,
    generationStartedAt: timestampFromDate(new Date(Date.now() - 90_000)), idempotencyKey: `pair-${i}`,
  });
  await client.completeReceipt({
    receiptId: receipt.receiptId, status: ReceiptStatus.SUCCEEDED, generationCompletedAt: timestampFromDate(new Date()), outputHash: sha(`out ${i}`),
  });
}
async function atRate(perSecond, secs) {
  const total = Math.round(perSecond * secs);
  const latencies = [];
  let errors = 0;
  const pending = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + (i * 1000) / perSecond;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(pair().then(() => latencies.push(performance.now() - scheduled), (err) => { if (errors++ === 0) console.error(err); }));
  }
  await Promise.all(pending);
  const achieved = (latencies.length / (performance.now() - t0)) * 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.toFixed(1);
  return { offered: perSecond, achieved: achieved.toFixed(1), pairs: latencies.length, errors, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: q(1) };
}
await atRate(rate, 3); // warm-up
const stats = await atRate(rate, seconds);
const metrics = await (await fetch(`${url}/metrics`)).text();
const groups = metrics.split("\n").filter((l) => /^provenance_receipts_group_commit_size_(sum|count)/.test(l));
console.log(JSON.stringify({ groupMax: groupMax ?? "default", ...stats }));
console.log(groups.join("\n"));
child.kill("SIGTERM");
await new Promise((r) => child.once("exit", r));
await env.close();
