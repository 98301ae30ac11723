/**
 * Issue 15's fuzz suite, raw bytes: any RPC path with any content type (the protocols' own and garbage) and any
 * bytes — random, enveloped or not, truncated protobuf of a valid request — and compressed bodies that lie or
 * explode (gzip bombs on every protocol). The same properties as the RPC runs hold: a well-formed answer of the
 * protocol the content type names (or a Connect refusal when it names none), no server-fault code, nothing written,
 * health and bounded memory after each run; bombs are refused RESOURCE_EXHAUSTED in well under a second each.
 */
import * as zlib from "node:zlib";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFuzzSystem, type FuzzedRpc, type FuzzSystem } from "./fuzz-system.js";
import { FUZZ_SEED, Judge, assertAliveAndBounded } from "./judge.js";
import { binaryMessage } from "./message-arbitraries.js";
import { readAnswer, readTimesFor, type Protocol } from "./protocols.js";
import { envelope, send, closeConnections, type RawRequest } from "./wire.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 40) * 5;
const MiB = 1024 * 1024;

/** A body of ~1 MB that inflates to 1 GiB: 1024 gzip members of 1 MiB of zeros each. */
function gzipBomb(): Buffer {
  const member = zlib.gzipSync(Buffer.alloc(MiB));
  return Buffer.concat(Array.from({ length: 1024 }, () => member));
}

/** Content types and the protocol each one names (undefined: none, the server must refuse it before any RPC). */
const CONTENT_TYPES: readonly [string, Protocol | undefined, boolean][] = [
  ["application/json", "connect-json", false],
  ["application/proto", "connect-proto", false],
  ["application/connect+proto", "connect-proto", true],
  ["application/connect+json", "connect-json", true],
  ["application/grpc", "grpc", true],
  ["application/grpc+proto", "grpc", true],
  ["application/grpc-web", "grpc-web", true],
  ["application/grpc-web+proto", "grpc-web", true],
  ["text/plain", undefined, false],
  ["application/octet-stream", undefined, false],
  ["", undefined, false],
  ["application/grpc+xml", undefined, false],
  ["application/json; charset=iso-8859-1", undefined, false],
];

let sys: FuzzSystem;
let judge: Judge;
beforeAll(async () => {
  sys = await startFuzzSystem();
  judge = new Judge(sys);
});
afterAll(async () => {
  closeConnections();
  await sys?.close();
});

/** The protocol a content type names for `rpc`: Connect streaming types only for streaming RPCs, and the reverse. */
function protocolOf(rpc: FuzzedRpc, type: (typeof CONTENT_TYPES)[number]): Protocol | undefined {
  const [name, protocol, enveloped] = type;
  if (protocol === undefined) return undefined;
  const connectStreaming = name.startsWith("application/connect+");
  if (protocol.startsWith("connect") && connectStreaming !== (rpc.method.methodKind !== "unary")) return undefined;
  return enveloped || protocol.startsWith("connect") ? protocol : undefined;
}

describe(`raw bytes on every RPC path (seed ${FUZZ_SEED}, ${RUNS} cases)`, () => {
  it("answers any bytes under any content type well-formed, never with a server fault, writing nothing", async () => {
    const rpcs = sys.rpcs;
    const bodies = (rpc: FuzzedRpc) =>
      fc.oneof(
        fc.uint8Array({ maxLength: 96 }),
        binaryMessage(rpc.method.input, { field: 0.2, unknownField: 0, huge: false }, 0.5),
        fc.constantFrom(new Uint8Array([0x0a, 0x10, 0x61]), new Uint8Array([0x0a, 0x02, 0xff, 0xfe]), new Uint8Array([0x0f, 0x00]), new Uint8Array(0)),
      );
    const cases = fc.constantFrom(...rpcs).chain((rpc) =>
      fc.record({
        rpc: fc.constant(rpc),
        type: fc.constantFrom(...CONTENT_TYPES),
        body: bodies(rpc),
        wrap: fc.constantFrom("envelope", "raw", "envelope-gzip-flag"),
        http: fc.constantFrom<"1.1" | "2">("1.1", "2"),
        admin: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ rpc, type, body, wrap, http, admin }) => {
        const protocol = protocolOf(rpc, type);
        const bytes = wrap === "raw" ? body : envelope(body, wrap === "envelope-gzip-flag" ? 1 : 0);
        const headers: Record<string, string> = { "content-type": type[0] };
        if (type[0] === "") delete headers["content-type"];
        if (admin) headers.authorization = sys.tokens.admin;
        if (protocol === "grpc") headers.te = "trailers";
        const request: RawRequest = { method: "POST", path: rpc.path, headers, body: bytes, http: protocol === "grpc" ? "2" : http };
        await judge.run({ what: rpc.path, writes: rpc.writes, refusedToken: admin ? undefined : "no token" }, async () =>
          readAnswer(rpc.method, protocol ?? "connect-json", await send(rpc.url, request, readTimesFor(rpc.method)), protocol === undefined),
        );
      }),
      { seed: FUZZ_SEED, numRuns: RUNS, endOnFailure: true },
    );
    await assertAliveAndBounded(sys);
  });

  it("refuses a gzip bomb RESOURCE_EXHAUSTED on every protocol in well under a second each, memory bounded", async () => {
    const bomb = gzipBomb();
    const rpcs = sys.rpcs.filter((r) => r.method.methodKind === "unary");
    const protocols: [Protocol, Record<string, string>, Uint8Array, "1.1" | "2"][] = [
      ["connect-proto", { "content-type": "application/proto", "content-encoding": "gzip" }, bomb, "1.1"],
      ["connect-json", { "content-type": "application/json", "content-encoding": "gzip" }, bomb, "2"],
      ["grpc", { "content-type": "application/grpc", "grpc-encoding": "gzip", te: "trailers" }, envelope(bomb, 1), "2"],
      ["grpc-web", { "content-type": "application/grpc-web+proto", "grpc-encoding": "gzip", "x-grpc-web": "1" }, envelope(bomb, 1), "1.1"],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...rpcs), fc.constantFrom(...protocols), async (rpc, [protocol, headers, body, http]) => {
        const started = Date.now();
        const answer = await judge.run({ what: rpc.path, writes: rpc.writes }, async () =>
          readAnswer(rpc.method, protocol, await send(rpc.url, { method: "POST", path: rpc.path, headers: { ...headers, authorization: sys.tokens.admin }, body, http })),
        );
        expect(answer.code).toBe(Code.ResourceExhausted);
        expect(answer.message).toContain("MAX_REQUEST_BYTES");
        expect(Date.now() - started).toBeLessThan(1500);
      }),
      { seed: FUZZ_SEED, numRuns: 12, endOnFailure: true },
    );
    await assertAliveAndBounded(sys);
  });

  afterAll(() => {
    console.log(`bytes fuzz answers by code: ${JSON.stringify(Object.fromEntries(judge.codes))}`);
  });
});
