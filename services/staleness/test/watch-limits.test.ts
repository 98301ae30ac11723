import * as http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetKind, StalenessDetectedSchema, StalenessService, WatchStalenessRequestSchema, type StalenessDetected } from "@provenance/shared";
import { DEFAULT_TEST_GRANTS } from "@provenance/shared/testing";
import { remoteAddressCaller } from "../src/events/staleness-hub.js";
import { assetWithVersions, eventually, sha, startStalenessHarness, watchDetectedOnNats, type StalenessHarness } from "./staleness-harness.js";

/**
 * The bounds of WatchStaleness against the real service (port 0, real NATS and PostgreSQL) and real streaming
 * clients: a reader that falls behind is ended RESOURCE_EXHAUSTED while the others keep receiving, a caller's N+1th
 * stream and the server's are refused RESOURCE_EXHAUSTED naming the bound, streams are let go however their clients
 * leave, and every protocol receives the same change.
 */

/** `segments` active segments of `projectId`, each of which used `assetId` with `hash`. */
async function projectUsing(h: StalenessHarness, projectId: string, assetId: string, hash: string, segments: number): Promise<void> {
  // The detection of the versions published so far runs first: rows inserted under a task still running would get
  // that task's event (nothing stale, every segment fresh), which a test would then take for its own change's.
  const unfinished = `SELECT count(*)::int AS n FROM staleness.detection_tasks WHERE finished_at IS NULL`;
  await eventually(async () => ((await h.sql.query(unfinished)).rows[0].n === 0 ? true : undefined));
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

/** A stream read by the test at its own pace: `take()` reads one more message (or the error the stream ended with). */
function pacedReader(client: Client<typeof StalenessService>, projectId: string, headers?: Record<string, string>) {
  const abort = new AbortController();
  const it = client.watchStaleness({ projectId }, { signal: abort.signal, headers })[Symbol.asyncIterator]();
  return {
    async take(): Promise<StalenessDetected | ConnectError | "done"> {
      try {
        const step = await it.next();
        return step.done ? "done" : step.value.change!;
      } catch (err) {
        return ConnectError.from(err);
      }
    },
    /** Reads until the stream ends; resolves with what it read and how it ended. */
    async drain(): Promise<{ changes: StalenessDetected[]; end: ConnectError | "done" }> {
      const changes: StalenessDetected[] = [];
      for (;;) {
        const got = await this.take();
        if (got === "done" || got instanceof ConnectError) return { changes, end: got };
        changes.push(got);
      }
    },
    abort: () => abort.abort(),
  };
}

/** A stream read as fast as it comes. */
function eagerReader(client: Client<typeof StalenessService>, projectId: string, headers?: Record<string, string>) {
  const reader = pacedReader(client, projectId, headers);
  const changes: StalenessDetected[] = [];
  const ended = (async () => {
    for (;;) {
      const got = await reader.take();
      if (got === "done" || got instanceof ConnectError) return got;
      changes.push(got);
    }
  })();
  return { changes, ended, abort: reader.abort };
}

/** What a refused stream's first read says. */
async function refusal(client: Client<typeof StalenessService>, projectId: string, headers?: Record<string, string>): Promise<ConnectError> {
  const got = await pacedReader(client, projectId, headers).take();
  if (!(got instanceof ConnectError)) throw new Error(`expected the stream to be refused, got ${got === "done" ? "its end" : "a change"}`);
  return got;
}

/** The staleness service's StalenessService as @grpc/grpc-js sees it (proto loaded from proto/); calls carry the test admin's token. */
async function grpcJsClient(h: StalenessHarness): Promise<{ client: any; metadata: grpc.Metadata; close(): void }> {
  const url = h.staleness!.url;
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${await h.env.token()}`);
  const protoDir = fileURLToPath(new URL("../../../proto", import.meta.url));
  const def = protoLoader.loadSync("provenance/v1/staleness.proto", { includeDirs: [protoDir], longs: String, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.provenance.v1.StalenessService(new URL(url).host, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  });
  return { client, metadata, close: () => client.close() };
}

/** A client of its own (a connection of its own) carrying the test admin's token, over `protocol` (default gRPC). */
function clientOf(h: StalenessHarness, protocol?: "grpc" | "connect" | "connect-json" | "grpc-web"): Client<typeof StalenessService> {
  return h.env.client(StalenessService, h.staleness!.url, undefined, protocol);
}

async function metric(h: StalenessHarness, name: string): Promise<number> {
  const text = await (await fetch(`${h.staleness!.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

/** A raw HTTP/2 gRPC WatchStaleness call of `projectId` on `session`; `paused`: its response is never read. */
function rawWatch(session: http2.ClientHttp2Session, token: string, projectId: string, opts: { paused?: boolean } = {}): http2.ClientHttp2Stream {
  const body = toBinary(WatchStalenessRequestSchema, create(WatchStalenessRequestSchema, { projectId }));
  const stream = session.request({
    ":method": "POST",
    ":path": "/provenance.v1.StalenessService/WatchStaleness",
    "content-type": "application/grpc",
    te: "trailers",
    authorization: `Bearer ${token}`,
  });
  stream.on("error", () => undefined);
  if (opts.paused) stream.pause();
  stream.end(Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]));
  return stream;
}

const watchers = (h: StalenessHarness) => () => h.staleness!.watcherCount();
const until = (f: () => boolean, timeoutMs?: number) => eventually(() => (f() ? true : undefined), timeoutMs);

/** Starts a harness whose project `slow` has 1,000 segments using `slow-lora` (v1 current, v2 published). */
async function slowProject(watchCutOffGraceMs: number): Promise<StalenessHarness> {
  const h = await startStalenessHarness({
    staleness: { watchLimits: { queueLength: 4, maxStreamsPerCaller: 50, maxStreams: 50, maxBufferedBytes: 32 << 20 }, watchCutOffGraceMs },
  });
  await assetWithVersions(h, "slow-lora", AssetKind.LORA, "slow_lora", ["slow lora v1", "slow lora v2"], "slow");
  await projectUsing(h, "slow", "slow-lora", sha("slow lora v1"), 1000);
  return h;
}

/** `count` changes of project `slow`, each listing its 1,000 segments: v2 made current, then back and forth. */
async function changeBackAndForth(h: StalenessHarness, count: number): Promise<string[]> {
  for (let k = 0; k < count; k++) await h.assets.setCurrentVersion({ assetId: "slow-lora", version: k % 2 === 0 ? 2 : 1 });
  return Array.from({ length: count }, (_, k) => (k % 2 === 0 ? "2:1000:0" : "1:0:1000"));
}

const shape = (c: StalenessDetected) => `${c.currentVersion}:${c.staleSegmentIds.length}:${c.freshSegmentIds.length}`;

/** A @grpc/grpc-js stream of `projectId`, collecting what it receives. */
function grpcJsReader(js: { client: any; metadata: grpc.Metadata }, projectId: string) {
  const call = js.client.watchStaleness({ projectId }, js.metadata);
  const changes: StalenessDetected[] = [];
  const ended = new Promise<grpc.ServiceError>((resolve) => call.on("error", resolve));
  call.on("data", (res: any) => changes.push(res.change));
  return { call, changes, ended };
}

describe("a WatchStaleness reader that falls behind and reads again", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await slowProject(60_000);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it("is told RESOURCE_EXHAUSTED after what its transport held, while the readers that keep up get every change", async () => {
    // On a connection of its own, as a stalled client would be; it reads the first change and then stops.
    const stalled = pacedReader(clientOf(h), "slow");
    const eager = eagerReader(clientOf(h), "slow");
    const eagerJson = eagerReader(clientOf(h, "connect-json"), "slow");
    const js = await grpcJsClient(h);
    const eagerJs = grpcJsReader(js, "slow");
    await until(() => watchers(h)() === 4);

    const first = stalled.take();
    // 16 changes of 1,000 ids each: more than the stalled reader's transport buffers and its queue of 4 hold.
    const expected = await changeBackAndForth(h, 16);
    expect(shape((await first) as StalenessDetected)).toBe("2:1000:0");
    await until(() => eager.changes.length === 16 && eagerJson.changes.length === 16 && eagerJs.changes.length === 16, 20_000);
    await eventually(async () => ((await metric(h, "staleness_watch_fell_behind_total")) === 1 ? true : undefined), 10_000);
    // Every change in commit order, in each protocol, to every reader that keeps up.
    expect(eager.changes.map(shape)).toEqual(expected);
    expect(eagerJson.changes).toEqual(eager.changes);
    expect(eagerJs.changes.map(shape)).toEqual(expected);

    const told = await stalled.drain();
    expect(told.changes.length).toBeLessThan(16 - 1 - 4);
    expect(told.end).toBeInstanceOf(ConnectError);
    expect((told.end as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((told.end as ConnectError).rawMessage).toBe("watch stream closed: the reader fell behind; reconnect and re-read the report");
    await until(() => watchers(h)() === 3);

    // The others are still open and still served.
    await changeBackAndForth(h, 1);
    await until(() => eager.changes.length === 17 && eagerJson.changes.length === 17 && eagerJs.changes.length === 17);
    eager.abort();
    eagerJson.abort();
    eagerJs.call.cancel();
    expect(await eager.ended).toMatchObject({ code: Code.Canceled });
    expect((await eagerJs.ended).code).toBe(grpc.status.CANCELLED);
    js.close();
    await until(() => watchers(h)() === 0);
  }, 90_000);
});

describe("a WatchStaleness reader that falls behind and never reads", () => {
  let h: StalenessHarness;
  const GRACE_MS = 1000;
  beforeAll(async () => {
    h = await slowProject(GRACE_MS);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it("is reset after the grace, its slot freed, and reads RESOURCE_EXHAUSTED when it reads at last", async () => {
    // grpc-js maps the reset as the gRPC spec does (ENHANCE_YOUR_CALM is RESOURCE_EXHAUSTED). It pauses after the first
    // change, and buffers 16 messages itself before the transport stops: 40 changes overflow it.
    const js = await grpcJsClient(h);
    const stalled = grpcJsReader(js, "slow");
    stalled.call.on("data", () => stalled.call.pause());
    const eager = eagerReader(clientOf(h), "slow");
    await until(() => watchers(h)() === 2);

    const expected = await changeBackAndForth(h, 40);
    await until(() => eager.changes.length === 40, 30_000);
    expect(eager.changes.map(shape)).toEqual(expected);
    await until(() => watchers(h)() === 1, GRACE_MS + 10_000);
    expect(await metric(h, "staleness_watch_fell_behind_total")).toBe(1);

    stalled.call.resume();
    const end = await stalled.ended;
    expect(end.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(stalled.changes.length).toBeLessThan(40 - 4);
    expect(stalled.changes.map(shape)).toEqual(expected.slice(0, stalled.changes.length));
    js.close();

    await changeBackAndForth(h, 1);
    await until(() => eager.changes.length === 41);
    eager.abort();
    await until(() => watchers(h)() === 0);
  }, 90_000);
});

describe("the bound on WatchStaleness streams per caller", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness({ staleness: { watchLimits: { queueLength: 8, maxStreamsPerCaller: 3, maxStreams: 100, maxBufferedBytes: 32 << 20 } } });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it("refuses one caller's N+1th stream (its token's subject) RESOURCE_EXHAUSTED naming WATCH_MAX_STREAMS_PER_CALLER, whatever x-forwarded-for says", async () => {
    const client = clientOf(h);
    const open = [1, 2, 3].map((n) => eagerReader(client, `p${n}`, { "x-forwarded-for": `203.0.113.${n}` }));
    await until(() => watchers(h)() === 3);
    // Another connection of the same caller, claiming to be someone else, is the same caller.
    const refused = await refusal(clientOf(h), "p4", { "x-forwarded-for": "198.51.100.7" });
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.rawMessage).toBe(
      "too many WatchStaleness streams for this caller: WATCH_MAX_STREAMS_PER_CALLER allows 3 open at once; close one first",
    );
    expect(await metric(h, "staleness_watch_refused_total")).toBe(1);
    expect(watchers(h)()).toBe(3);

    // Another caller has a bound of its own.
    await h.env.setGrants([...DEFAULT_TEST_GRANTS, { subject: "test:watcher", project: "*", role: "viewer" }]);
    const other = eagerReader(h.env.client(StalenessService, h.staleness!.url, { subject: "test:watcher" }), "p1");
    await until(() => watchers(h)() === 4);

    // Closing one frees its slot for the next.
    open[0]!.abort();
    await until(() => watchers(h)() === 3);
    const again = eagerReader(client, "p4");
    await until(() => watchers(h)() === 4);
    for (const r of [again, other, ...open]) r.abort();
    await until(() => watchers(h)() === 0);
  });
});

describe("WatchStaleness callers keyed by the socket's remote address (the hub's own default)", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness({
      staleness: { watchLimits: { queueLength: 8, maxStreamsPerCaller: 2, maxStreams: 100, maxBufferedBytes: 32 << 20 }, watchCaller: remoteAddressCaller },
    });
    await h.env.setGrants([...DEFAULT_TEST_GRANTS, { subject: "test:watcher", project: "*", role: "viewer" }]);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it("counts every stream from one address as one caller, whoever its token names and whatever x-forwarded-for says", async () => {
    const a = eagerReader(clientOf(h), "p", { "x-forwarded-for": "203.0.113.1" });
    const b = eagerReader(h.env.client(StalenessService, h.staleness!.url, { subject: "test:watcher" }), "p", { "x-forwarded-for": "203.0.113.2" });
    await until(() => watchers(h)() === 2);
    const refused = await refusal(clientOf(h), "p", { "x-forwarded-for": "198.51.100.7" });
    expect(refused.code).toBe(Code.ResourceExhausted);
    expect(refused.rawMessage).toContain("WATCH_MAX_STREAMS_PER_CALLER allows 2");
    a.abort();
    b.abort();
    await until(() => watchers(h)() === 0);
  });
});

describe("the caller of a WatchStaleness stream, as the function given to the hub says", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness({
      staleness: {
        watchLimits: { queueLength: 8, maxStreamsPerCaller: 2, maxStreams: 3, maxBufferedBytes: 32 << 20 },
        // Any key the function derives from the request: here a header the test sets.
        watchCaller: (ctx) => ctx.requestHeader.get("x-test-subject") ?? "",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it("counts per caller so keyed, and refuses any caller past WATCH_MAX_STREAMS", async () => {
    const client = clientOf(h);
    const as = (subject: string, project = "p") => eagerReader(client, project, { "x-test-subject": subject });
    const a1 = as("alice");
    const a2 = as("alice");
    await until(() => watchers(h)() === 2);
    expect((await refusal(client, "p", { "x-test-subject": "alice" })).rawMessage).toContain("WATCH_MAX_STREAMS_PER_CALLER allows 2");
    const b1 = as("bob");
    await until(() => watchers(h)() === 3);
    const full = await refusal(client, "p", { "x-test-subject": "carol" });
    expect(full.code).toBe(Code.ResourceExhausted);
    expect(full.rawMessage).toBe("too many WatchStaleness streams on this server: WATCH_MAX_STREAMS allows 3 open at once; retry later");
    for (const r of [a1, a2, b1]) r.abort();
    await until(() => watchers(h)() === 0);
  });
});

describe("WatchStaleness streams and their clients", () => {
  let h: StalenessHarness;
  beforeAll(async () => {
    h = await startStalenessHarness({ staleness: { watchLimits: { queueLength: 8, maxStreamsPerCaller: 200, maxStreams: 200, maxBufferedBytes: 32 << 20 } } });
    await assetWithVersions(h, "proto-lora", AssetKind.LORA, "proto_lora", ["proto lora v1"], "proto");
    await projectUsing(h, "proto", "proto-lora", sha("proto lora v1"), 40);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it("hands every protocol the change exactly as it was published", async () => {
    const readers = {
      grpc: eagerReader(clientOf(h), "proto"),
      grpcWeb: eagerReader(clientOf(h, "grpc-web"), "proto"),
      connectProto: eagerReader(clientOf(h, "connect"), "proto"),
      connectJson: eagerReader(clientOf(h, "connect-json"), "proto"),
      everyProject: eagerReader(clientOf(h), ""),
    };
    await until(() => watchers(h)() === 5);
    const nats = watchDetectedOnNats(h);
    await nats.ready;
    await h.assets.publishVersion({ assetId: "proto-lora", contentHash: sha("proto lora v2"), uploadedBy: "creator" });
    const published = await eventually(() => nats.events.find((e) => e.assetId === "proto-lora"));
    await until(() => Object.values(readers).every((r) => r.changes.length === 1));
    expect(published.staleSegmentIds).toHaveLength(40);
    for (const [name, r] of Object.entries(readers)) expect({ name, change: r.changes[0] }).toEqual({ name, change: published });
    nats.stop();
    for (const r of Object.values(readers)) r.abort();
    await until(() => watchers(h)() === 0);
  });

  it("lets a stream go however its client leaves: aborted, cancelled, or its connection cut", async () => {
    const url = h.staleness!.url;
    const aborted = Array.from({ length: 20 }, (_, n) => eagerReader(n % 2 ? clientOf(h) : clientOf(h, "connect-json"), `p${n}`));
    const js = await grpcJsClient(h);
    const cancelled = Array.from({ length: 20 }, (_, n) => {
      const call = js.client.watchStaleness({ projectId: `p${n}` }, js.metadata);
      call.on("error", () => undefined);
      return call;
    });
    // Raw HTTP/2 gRPC calls whose TCP connection is then destroyed without a goodbye.
    const token = await h.env.token();
    const session = http2.connect(url);
    session.on("error", () => undefined);
    for (let n = 0; n < 20; n++) rawWatch(session, token, "cut");
    await until(() => watchers(h)() === 60);

    for (const r of aborted) r.abort();
    await until(() => watchers(h)() === 40);
    for (const c of cancelled) c.cancel();
    js.close();
    await until(() => watchers(h)() === 20);
    session.destroy();
    await until(() => watchers(h)() === 0);
  });
});

describe("the bound on bytes serialized for WatchStaleness streams (WATCH_MAX_BUFFERED_BYTES)", () => {
  let h: StalenessHarness;
  const BUDGET = 64 * 1024;
  const HOLD_MS = 1000;
  beforeAll(async () => {
    h = await startStalenessHarness({
      staleness: {
        watchLimits: { queueLength: 64, maxStreamsPerCaller: 50, maxStreams: 50, maxBufferedBytes: BUDGET },
        watchHoldLimitMs: HOLD_MS,
        watchCutOffGraceMs: 1000,
      },
    });
    await assetWithVersions(h, "slow-lora", AssetKind.LORA, "slow_lora", ["slow lora v1", "slow lora v2"], "slow");
    await projectUsing(h, "slow", "slow-lora", sha("slow lora v1"), 1000);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it("holds at most the bound for all streams, makes the others wait their turn, and cuts off a reader that stopped reading while they wait", async () => {
    // A raw gRPC stream whose client never reads: its HTTP/2 window fills and the server is left holding its change.
    const session = http2.connect(h.staleness!.url);
    session.on("error", () => undefined);
    const stalled = rawWatch(session, await h.env.token(), "slow", { paused: true });
    const stalledClosed = new Promise<void>((resolve) => stalled.once("close", resolve));
    const eager = eagerReader(clientOf(h), "slow");
    await until(() => watchers(h)() === 2);

    let maxBytes = 0;
    let maxWaiting = 0;
    const sampler = setInterval(() => {
      const now = h.staleness!.watchBuffered();
      maxBytes = Math.max(maxBytes, now.bytes);
      maxWaiting = Math.max(maxWaiting, now.waitingStreams);
    }, 2);
    try {
      const expected = await changeBackAndForth(h, 8);
      // Every change reaches the reader that reads, in order, once the stalled stream is out of its way.
      await until(() => eager.changes.length === 8, 30_000);
      expect(eager.changes.map(shape)).toEqual(expected);
    } finally {
      clearInterval(sampler);
    }
    const changeBytes = toBinary(StalenessDetectedSchema, eager.changes[0]!).length;
    console.log(`a change of ${changeBytes} bytes; at most ${maxBytes} bytes held for streams, ${maxWaiting} stream(s) waiting at once`);
    expect(changeBytes).toBeGreaterThan(BUDGET / 2); // two do not fit: the second stream has to wait
    expect(maxWaiting).toBeGreaterThanOrEqual(1);
    expect(maxBytes).toBeLessThanOrEqual(BUDGET);

    // The stalled stream was taken as fallen behind and reset after the grace; its slot and its bytes are free.
    await stalledClosed;
    await until(() => watchers(h)() === 1);
    expect(await metric(h, "staleness_watch_fell_behind_total")).toBe(1);
    await until(() => h.staleness!.watchBuffered().bytes === 0);
    expect(await metric(h, "staleness_watch_buffered_bytes")).toBe(0);
    expect(await metric(h, "staleness_watch_waiting_streams")).toBe(0);
    eager.abort();
    session.destroy();
    await until(() => watchers(h)() === 0);
  }, 60_000);
});
