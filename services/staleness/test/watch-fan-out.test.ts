import * as http from "node:http";
import { PerformanceObserver, monitorEventLoopDelay, performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind, StalenessService, type StalenessDetected } from "@provenance/shared";
import { assetWithVersions, eventually, sha, startStalenessHarness, type StalenessHarness } from "./staleness-harness.js";

/**
 * WatchStaleness with thousands of open streams, against the real service (port 0, real NATS and PostgreSQL): a crowd
 * of @grpc/grpc-js streams on a thread of their own (watch-crowd-worker.mjs), connect-node gRPC streams in this
 * thread, which the service shares, so what they measure is what the service's event loop allowed. Changes come the
 * real way: a version is published, detection enqueues the project's event in the outbox, the relay publishes it, the
 * hub fans it out. The times are printed; the bounds asserted are the ones the service promises.
 */

/** `segments` active segments of `projectId`, each of which used `assetId` with `hash`. */
async function projectUsing(h: StalenessHarness, projectId: string, assetId: string, hash: string, segments: number): Promise<void> {
  await h.sql.query(
    `INSERT INTO staleness.segments (segment_id, project_id, scene_id, character_name, sequence_index, current_receipt_id, current_receipt_created_at)
     SELECT format('%s-segment-%s', $1::text, lpad(n::text, 6, '0')), $1, format('%s-scene-%s', $1::text, n % 20), 'anna', n,
            format('r-%s-%s', $1::text, n), now()
       FROM generate_series(1, $2::int) AS n`,
    [projectId, segments],
  );
  await h.sql.query(
    `INSERT INTO staleness.segment_inputs (segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id)
     SELECT segment_id, 'lora', 0, $2, $3, current_receipt_id, project_id, scene_id FROM staleness.segments WHERE project_id = $1`,
    [projectId, assetId, hash],
  );
}

/** A reader of one stream in this thread: what it received, and how it ended. */
interface Reader {
  changes: StalenessDetected[];
  /** Arrival (performance.now) of each change. */
  at: number[];
  /** Resolves with the error the stream ended with (undefined when it ended cleanly or was aborted). */
  ended: Promise<ConnectError | undefined>;
  abort(): void;
}

function read(client: Client<typeof StalenessService>, projectId: string): Reader {
  const abort = new AbortController();
  const r: Omit<Reader, "ended"> = { changes: [], at: [], abort: () => abort.abort() };
  const ended = (async () => {
    try {
      for await (const res of client.watchStaleness({ projectId }, { signal: abort.signal })) {
        r.changes.push(res.change!);
        r.at.push(performance.now());
      }
      return undefined;
    } catch (err) {
      const e = ConnectError.from(err);
      return abort.signal.aborted && e.code === Code.Canceled ? undefined : e;
    }
  })();
  return { ...r, ended };
}

/** GETs /healthz every ~10 ms until stopped; resolves with each answer's time in ms. */
function sampleHealth(url: string): { stop(): Promise<number[]> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await new Promise<void>((resolve, reject) => {
        http
          .get(`${url}/healthz`, { agent }, (res) => {
            res.resume();
            res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`/healthz answered ${res.statusCode}`))));
          })
          .on("error", reject);
      });
      times.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return times;
    },
  };
}

/** The crowd thread's messages. */
type CrowdMessage =
  | { type: "opened"; streams: number }
  | { type: "first"; bytes: number; key: string; at: number }
  | { type: "all"; bytes: number; at: number }
  | { type: "closed"; errors: string[] };

/** Starts the crowd thread: `streams` grpc-js streams of `projectId` over `connections` HTTP/2 connections. */
function startCrowd(url: string, token: string, projectId: string, streams: number, connections: number) {
  const worker = new Worker(new URL("./watch-crowd-worker.mjs", import.meta.url), {
    workerData: { address: new URL(url).host, projectId, streams, connections, token },
  });
  const seen: CrowdMessage[] = [];
  worker.on("message", (m: CrowdMessage) => seen.push(m));
  const failed = new Promise<never>((_, reject) => worker.once("error", reject));
  failed.catch(() => undefined);
  const waitFor = <T extends CrowdMessage["type"]>(type: T, timeoutMs: number): Promise<Extract<CrowdMessage, { type: T }>> =>
    Promise.race([failed, eventually(() => seen.find((m): m is Extract<CrowdMessage, { type: T }> => m.type === type), timeoutMs)]);
  return {
    waitFor,
    async close(): Promise<string[]> {
      worker.postMessage({ type: "close" });
      const closed = await waitFor("closed", 30_000);
      await worker.terminate();
      return closed.errors;
    },
  };
}

/** Absolute time in ms, comparable across threads. */
function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

describe("WatchStaleness with 2,000 open streams", () => {
  const CROWD = 2000;
  // The crowd project's segments: each change lists them (and its group lists them again), ~9 KB a change.
  const SEGMENTS = 200;
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness({
      staleness: { watchLimits: { queueLength: 64, maxStreamsPerCaller: CROWD + 10, maxStreams: CROWD + 10, maxBufferedBytes: 32 << 20 } },
    });
    await assetWithVersions(h, "crowd-lora", AssetKind.LORA, "crowd_lora", ["crowd lora v1"], "crowd");
    await assetWithVersions(h, "quiet-lora", AssetKind.LORA, "quiet_lora", ["quiet lora v1"], "quiet");
    await projectUsing(h, "crowd", "crowd-lora", sha("crowd lora v1"), SEGMENTS);
    await projectUsing(h, "quiet", "quiet-lora", sha("quiet lora v1"), 3);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  // The bounds are regression bounds, several times what this machine measures when quiet (the last stream 0.5–1.1 s,
  // /healthz < 100 ms, at load 4–5) and far below what issue 15 found before the fan-out was rebuilt (push 23 s,
  // detection 25 s, /healthz stalled 5 s), so a loaded CI machine does not fail them by chance; the targets themselves
  // are measured by npm run bench. The line above the expectations prints what was measured.
  it("pushes a change to the last of them in seconds, not tens, while /healthz answers and another project's change goes through", async () => {
    const url = h.staleness!.url;
    const crowd = startCrowd(url, await h.env.token(), "crowd", CROWD, 20);
    await crowd.waitFor("opened", 30_000);
    await eventually(() => (h.staleness!.watcherCount() === CROWD ? true : undefined), 60_000);
    // Registered after the crowd, so it is handed the change last.
    const probe = read(h.report, "crowd");
    const quiet = read(h.env.client(StalenessService, url), "quiet");
    await eventually(() => (h.staleness!.watcherCount() === CROWD + 2 ? true : undefined));

    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const gcPauses: number[] = [];
    const gcObserver = new PerformanceObserver((list) => gcPauses.push(...list.getEntries().map((e) => e.duration)));
    gcObserver.observe({ entryTypes: ["gc"] });
    const health = sampleHealth(url);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const wall0 = wallNow();
    await h.assets.publishVersion({ assetId: "crowd-lora", contentHash: sha("crowd lora v2"), uploadedBy: "creator" });
    // A second change, of another project, detected while the first one is being fanned out.
    const t1 = performance.now();
    await h.assets.publishVersion({ assetId: "quiet-lora", contentHash: sha("quiet lora v2"), uploadedBy: "creator" });

    await eventually(() => probe.changes[0], 10_000);
    await eventually(() => quiet.changes[0], 10_000);
    const first = await crowd.waitFor("first", 30_000);
    const all = await crowd.waitFor("all", 60_000);
    const healthMs = await health.stop();
    loopDelay.disable();
    gcObserver.disconnect();

    const probeMs = probe.at[0]! - t0;
    const quietMs = quiet.at[0]! - t1;
    const worstHealthMs = Math.max(...healthMs);
    console.log(
      `${CROWD + 1} streams of one project, a change of ${all.bytes} bytes (${SEGMENTS} segment ids): the stream registered last got it ` +
        `${probeMs.toFixed(0)} ms after the publish, all ${CROWD} of the crowd within ${(all.at - wall0).toFixed(0)} ms; another ` +
        `project's change reached its stream ${quietMs.toFixed(0)} ms after its publish (detection ${quiet.changes[0]!.detectionLatencyMs} ms); ` +
        `/healthz answered ${healthMs.length} times meanwhile, the slowest in ${worstHealthMs.toFixed(1)} ms; ` +
        `worst event-loop delay ${(loopDelay.max / 1e6).toFixed(0)} ms, longest GC pause ${Math.max(0, ...gcPauses).toFixed(0)} ms ` +
        `(${gcPauses.length} pauses, ${gcPauses.reduce((a, b) => a + b, 0).toFixed(0)} ms in all)`,
    );
    expect(first.key).toBe("crowd-lora:2");
    expect(probe.changes[0]!.staleSegmentIds).toHaveLength(SEGMENTS);
    expect(probe.changes[0]!.totalStaleSegments).toBe(SEGMENTS);
    expect(probeMs).toBeLessThan(10_000);
    expect(quiet.changes[0]!.staleSegmentIds).toEqual(["quiet-segment-000001", "quiet-segment-000002", "quiet-segment-000003"]);
    expect(quietMs).toBeLessThan(8_000);
    expect(quiet.changes[0]!.detectionLatencyMs).toBeLessThan(5_000);
    expect(healthMs.length).toBeGreaterThan(5);
    expect(worstHealthMs).toBeLessThan(1_000);

    expect(await crowd.close()).toEqual([]);
    probe.abort();
    quiet.abort();
    expect(await probe.ended).toBeUndefined();
    expect(await quiet.ended).toBeUndefined();
    await eventually(() => (h.staleness!.watcherCount() === 0 ? true : undefined), 30_000);
  }, 180_000);
});
