/**
 * Whole fuzz cases for one RPC: a protocol it can be called on, a token (mostly the admin's, so requests reach the
 * parser and the handlers; a share that must be refused), a payload of its request type (JSON or binary, valid-shaped
 * or hostile), and framing that may be wrong too — compression that is a lie or a bomb, broken envelopes, garbage
 * content types, HTTP methods and timeout headers.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import fc from "fast-check";
import type { FuzzTokens } from "./fuzz-system.js";
import { withDescription, type FuzzCase } from "./judge.js";
import { binaryMessage, jsonText, mutatedBinary, mutatedJsonText, type Hostility } from "./message-arbitraries.js";
import { PROTOCOLS, isGet, isJson, type Framing, type Payload, type Protocol } from "./protocols.js";
import type { Bases } from "./seeds.js";

/** What one RPC's cases are drawn for. */
export interface RpcTarget {
  method: DescMethod;
  path: string;
  url: string;
  writes: boolean;
  get: boolean;
}

/** How the cases of a run are mixed. */
export interface CaseMix {
  hostility: Hostility;
  /** Chance of text or byte damage to the payload. */
  damage: number;
  /** Chance of a refused token. */
  refusedToken: number;
  /** Chance of wrong framing (compression, envelope, content type, method, headers). */
  framing: number;
}

/** The mix the per-RPC properties use: mostly valid-shaped with a hostile field here and there. */
export const DEFAULT_MIX: CaseMix = {
  hostility: { field: 0.08, unknownField: 0.06, huge: true },
  damage: 0.15,
  refusedToken: 0.15,
  framing: 0.2,
};

function weighted<T>(chance: number, rare: fc.Arbitrary<T>, usual: fc.Arbitrary<T>): fc.Arbitrary<T> {
  const w = Math.max(1, Math.min(99, Math.round(chance * 100)));
  return fc.oneof({ weight: 100 - w, arbitrary: usual }, { weight: w, arbitrary: rare });
}

/** Content types no protocol of the server reads (or reads as something else than was sent). */
const GARBAGE_TYPES = [
  "text/plain",
  "",
  "application/xml",
  "application/json; charset=utf-16",
  "application/grpc+garbage",
  "application/proto+json",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/connect+json",
  "application/grpc-web-text",
  "*/*",
];

const HEADER_DAMAGE: Record<string, string>[] = [
  { "connect-timeout-ms": "-1" },
  { "connect-timeout-ms": "abc" },
  { "connect-timeout-ms": "99999999999" },
  { "connect-timeout-ms": "0" },
  { "grpc-timeout": "1H" },
  { "grpc-timeout": "abc" },
  { "grpc-timeout": "999999999S" },
  { "grpc-timeout": "0n" },
  { "connect-protocol-version": "2" },
  { "x-request-id": "a".repeat(4000) },
  { "x-request-id": "../../\\u0000" },
];

type Wrong = Pick<Framing, "compression" | "envelope" | "contentType" | "headers" | "httpMethod"> & { refusedBeforeRpc?: boolean };

function wrongFraming(protocol: Protocol, target: RpcTarget): fc.Arbitrary<Wrong> {
  const enveloped = protocol === "grpc" || protocol === "grpc-web" || target.method.methodKind !== "unary";
  const options: fc.Arbitrary<Wrong>[] = [
    fc.constantFrom<Wrong["compression"]>("gzip", "br", "bogus", "flagged-without-encoding").map((compression) => ({ compression })),
    fc.constantFrom(...HEADER_DAMAGE).map((headers) => ({ headers })),
  ];
  if (!isGet(protocol)) {
    // Connect's streaming type is garbage only for a unary RPC: a streaming one speaks it.
    const garbage = GARBAGE_TYPES.filter((t) => target.method.methodKind === "unary" || !t.startsWith("application/connect+"));
    options.push(fc.constantFrom(...garbage).map((contentType) => ({ contentType, refusedBeforeRpc: true })));
    options.push(fc.constantFrom<Wrong["httpMethod"]>("PUT", "GET").map((httpMethod) => ({ httpMethod, refusedBeforeRpc: true })));
  }
  if (enveloped) {
    options.push(fc.constantFrom<Wrong["envelope"]>("two-messages", "none", "length-too-long", "length-too-short", "trailer-flag", "junk-after").map((envelope) => ({ envelope })));
  }
  return fc.oneof(...options);
}

function payloadFor(target: RpcTarget, protocol: Protocol, mix: CaseMix, bases: Bases | undefined): fc.Arbitrary<Payload> {
  const input = target.method.input;
  const base = bases?.get(input.typeName);
  if (isJson(protocol)) {
    const random = jsonText(input, mix.hostility, mix.damage);
    const text = base ? fc.oneof({ weight: 1, arbitrary: random }, { weight: 3, arbitrary: mutatedJsonText(input, base, mix.hostility, mix.damage) }) : random;
    return text.map((json) => ({ json }));
  }
  const random = binaryMessage(input, mix.hostility, mix.damage);
  const bytes = base ? fc.oneof({ weight: 1, arbitrary: random }, { weight: 3, arbitrary: mutatedBinary(input, base, mix.hostility, mix.damage) }) : random;
  return bytes.map((binary) => ({ binary }));
}

/**
 * Cases for `target`, on every protocol it can be called on: a quarter random messages of its request type, the rest
 * its valid request from `bases` (if there is one) with fields changed.
 */
export function rpcCases(target: RpcTarget, tokens: FuzzTokens, bases?: Bases, mix: CaseMix = DEFAULT_MIX): fc.Arbitrary<FuzzCase> {
  const protocols = PROTOCOLS.filter((p) => !isGet(p) || target.get);
  const token = weighted(
    mix.refusedToken,
    fc.constantFrom(...tokens.refused).map((t) => ({ header: t.header, refused: t.name })),
    fc.constant({ header: tokens.admin as string | undefined, refused: undefined as string | undefined }),
  );
  return fc
    .record({
      protocol: fc.constantFrom(...protocols),
      token,
      http: fc.constantFrom<"1.1" | "2">("1.1", "2"),
      chunked: fc.boolean(),
    })
    .chain(({ protocol, token: t, http, chunked }) =>
      fc.record({
        payload: payloadFor(target, protocol, mix, bases),
        wrong: weighted(mix.framing, wrongFraming(protocol, target), fc.constant<Wrong>({})),
      }).map(({ payload, wrong }) => {
        const { refusedBeforeRpc, ...framingWrong } = wrong;
        const c: FuzzCase = {
          method: target.method,
          path: target.path,
          url: target.url,
          writes: target.writes,
          protocol,
          payload,
          framing: { authorization: t.header, http, chunked, ...framingWrong },
          refusedToken: t.refused,
          refusedBeforeRpc,
        };
        return withDescription(c);
      }),
    );
}
