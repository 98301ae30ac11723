/**
 * The REST routes of the contract (REST_ROUTE_PROCEDURES: each stands for an RPC and is decided by its rule), fuzzed
 * from the outside: path parameters that are ids, huge, percent-encoding that does not decode, encoded NUL and lone
 * surrogates; query parameters named after the RPC's request fields with values of any type; JSON bodies of the RPC's
 * request type, hostile or damaged; wrong content types, methods and tokens. An answer is well-formed when it is JSON:
 * a success that decodes as the RPC's response, or `{code, message, field?}` with the status that code maps to.
 */
import { fromJson, type DescMethod, type JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { httpStatusFor } from "@provenance/shared";
import { REST_ROUTE_PROCEDURES } from "@provenance/shared/auth";
import fc from "fast-check";
import type { FuzzSystem, FuzzTokens } from "./fuzz-system.js";
import { jsonText, type Hostility } from "./message-arbitraries.js";
import type { Answer } from "./protocols.js";
import type { RawRequest, RawResponse } from "./wire.js";

/** One REST route with the RPC it stands for. */
export interface RestTarget {
  /** `GET /api/segments/:id/provenance` */
  route: string;
  method: "GET" | "POST";
  path: string;
  rpc: DescMethod;
  url: string;
}

/** Every route of REST_ROUTE_PROCEDURES, with the server of its RPC. */
export function restTargets(sys: FuzzSystem): RestTarget[] {
  return Object.entries(REST_ROUTE_PROCEDURES).map(([route, procedure]) => {
    const [method, path] = route.split(" ") as ["GET" | "POST", string];
    const rpc = sys.rpcs.find((r) => r.path === `/${procedure}`);
    if (!rpc) throw new Error(`REST route ${route} stands for ${procedure}, which no service serves`);
    return { route, method, path, rpc: rpc.method, url: rpc.url };
  });
}

/** One generated REST request. */
export interface RestCase {
  target: RestTarget;
  request: RawRequest;
  refusedToken?: string;
  [fc.toStringMethod]?: () => string;
}

const SEGMENT_VALUES = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("p1", "seg-1", "a-model", "scene-1", "x") },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-zA-Z0-9._~-]{1,20}$/) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }).map(encodeURIComponent) },
  {
    weight: 3,
    arbitrary: fc.constantFrom("%", "%zz", "%E0%A4%A", "%C0%AF", "%ED%A0%80", "%00", "a%00b", "%FF", "..", "%2F", "%2e%2e", "x".repeat(600), "%F0%9F%98%80".repeat(200)),
  },
);

const QUERY_VALUES = fc.oneof(
  fc.constantFrom("1", "0", "-1", "1.5", "1e3", "99999999999", "4294967296", "abc", "", " 1", "0x10", "v1"),
  fc.constantFrom("%00", "%ED%A0%80", "%", "a".repeat(3000)),
  fc.stringMatching(/^[a-z0-9]{0,12}$/),
);

const METHOD_SWAP: Record<string, ("GET" | "POST" | "PUT" | "DELETE" | "HEAD")[]> = { GET: ["POST", "PUT", "DELETE"], POST: ["GET", "PUT", "DELETE"] };

const CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "", "application/json-patch+json", "APPLICATION/JSON"];

/** REST cases for `target`: mostly its method with the admin's token and a valid-shaped request, hostile at `h`. */
export function restCases(target: RestTarget, tokens: FuzzTokens, h: Hostility): fc.Arbitrary<RestCase> {
  const params = target.rpc.input.fields.map((f) => f.name);
  const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...params, "bogus", "__proto__"), fc.stringMatching(/^[a-z_]{1,8}$/)), QUERY_VALUES), { maxLength: 4 });
  const token = fc.oneof(
    { weight: 6, arbitrary: fc.constant({ header: tokens.admin as string | undefined, refused: undefined as string | undefined }) },
    { weight: 1, arbitrary: fc.constantFrom(...tokens.refused).map((t) => ({ header: t.header, refused: t.name as string | undefined })) },
  );
  const method = fc.oneof({ weight: 9, arbitrary: fc.constant(target.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHOD_SWAP[target.method]!) });
  const body = fc.option(jsonText(target.rpc.input, h, 0.2), { nil: undefined, freq: 8 });
  const contentType = fc.oneof({ weight: 6, arbitrary: fc.constant("application/json") }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) });
  return fc
    .record({
      id: SEGMENT_VALUES,
      query,
      token,
      method,
      body,
      contentType,
      idempotencyKey: fc.option(fc.oneof(fc.constantFrom("k-1", "", "x".repeat(600)), fc.stringMatching(/^[a-z0-9-]{1,12}$/)), { nil: undefined, freq: 3 }),
      http: fc.constantFrom<"1.1" | "2">("1.1", "2"),
    })
    .map((g) => {
      // Values keep their (possibly broken) %-escapes; what a request line cannot carry raw is escaped.
      const q = g.query.map(([k, v]) => `${encodeURIComponent(k)}=${v.replace(/[^\x21-\x7e]|[#&]/g, (ch) => encodeURIComponent(ch))}`).join("&");
      const path = `${target.path.replace(":id", g.id)}${q ? `?${q}` : ""}`;
      const headers: Record<string, string> = {};
      if (g.token.header !== undefined) headers.authorization = g.token.header;
      const sendsBody = g.method === "POST" || g.method === "PUT";
      if (sendsBody && g.contentType !== "") headers["content-type"] = g.contentType;
      if (g.idempotencyKey !== undefined) headers["idempotency-key"] = g.idempotencyKey;
      const request: RawRequest = { method: g.method as RawRequest["method"], path, headers, http: g.http, body: sendsBody && g.body !== undefined ? Buffer.from(g.body) : undefined };
      const c: RestCase = { target, request, refusedToken: g.token.refused };
      c[fc.toStringMethod] = () =>
        `${g.method} ${path.length > 200 ? `${path.slice(0, 200)}…` : path} ${JSON.stringify(headers).slice(0, 200)} ${g.body === undefined ? "" : g.body.slice(0, 300)}`;
      return c;
    });
}

const CODE_BY_NAME = new Map<string, Code>(
  Object.entries(Code)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [k.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(), v as Code]),
);

/** Statuses a REST route answers before a use case runs, with the code in their body. */
const REFUSAL_STATUSES: ReadonlyMap<number, Code> = new Map([
  [405, Code.Unimplemented],
  [413, Code.ResourceExhausted],
  [415, Code.InvalidArgument],
]);

/** Reads a REST answer: a JSON success that decodes as `target`'s RPC response, or a JSON error with the status of its code. */
export function readRestAnswer(target: RestTarget, method: string, res: RawResponse): Answer {
  const base = { httpStatus: res.status, messages: 0 };
  const type = res.headers["content-type"] ?? "";
  if (method === "HEAD") return res.body.length === 0 ? base : { ...base, malformed: "a HEAD answer with a body" };
  if (!type.startsWith("application/json")) return { ...base, malformed: `content-type "${type}", not JSON` };
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(res.body.toString("utf8")) as JsonValue;
  } catch {
    return { ...base, malformed: "the body is not JSON" };
  }
  if (res.status === 200) {
    try {
      fromJson(target.rpc.output, parsed, { ignoreUnknownFields: false });
    } catch (err) {
      return { ...base, malformed: `the answer does not decode as ${target.rpc.output.typeName}: ${(err as Error).message}` };
    }
    return { ...base, messages: 1 };
  }
  const e = parsed as { code?: unknown; message?: unknown; field?: unknown };
  const code = typeof e.code === "string" ? CODE_BY_NAME.get(e.code) : undefined;
  if (code === undefined || typeof e.message !== "string") return { ...base, malformed: `HTTP ${res.status} without {code, message}: ${res.body.subarray(0, 120).toString()}` };
  const answer: Answer = { ...base, code, message: e.message, field: typeof e.field === "string" ? e.field : undefined };
  if (httpStatusFor(code) !== res.status && REFUSAL_STATUSES.get(res.status) !== code) {
    return { ...answer, malformed: `HTTP ${res.status} does not go with code ${e.code} (${httpStatusFor(code)})` };
  }
  return answer;
}
