/** REST routes: thin JSON paths over the same handlers as the RPCs, with the shared error mapping. */
import type { IncomingHttpHeaders } from "node:http";
import { fromJson, type DescMessage, type JsonValue, type Message, type MessageShape } from "@bufbuild/protobuf";
import type { AccessControl, Caller } from "../auth/access-decision.js";
import { REST_ROUTE_PROCEDURES } from "../auth/access-table.js";
import type { Logger } from "pino";
import { Code, ConnectError } from "@connectrpc/connect";
import { ERROR_FIELD_HEADER, clientFacingError, codeName, httpStatusFor, invalidArgument, toConnectError } from "../errors/index.js";

/** What a REST handler receives. */
export interface RestRequest {
  /** Path parameters, URL-decoded (`:id` in the path → `params.id`). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body (POST), or undefined when there is none. */
  body: unknown;
  /** Request headers; `x-request-id` is always set (the caller's or a generated one). */
  headers: IncomingHttpHeaders;
}

/** One REST path, e.g. `{ method: "GET", path: "/api/segments/:id/provenance", handler }`; the handler's result is sent as JSON. */
export interface RestRoute {
  method: "GET" | "POST";
  path: string;
  handler: (req: RestRequest) => Promise<unknown>;
}

/** The JSON body of a REST error: `{ "code": "not_found", "message": "..." }` (plus `field` for invalid_argument). */
export interface RestErrorBody {
  code: string;
  message: string;
  field?: string;
}

/** A REST route that stands for an RPC (`REST_ROUTE_PROCEDURES`), decided exactly as that RPC is. */
export interface DecidedRestRoute<M extends Message> {
  method: "GET" | "POST";
  path: string;
  /** The RPC's request message, built from the path, query and body (a malformed value: INVALID_ARGUMENT naming it). */
  request(req: RestRequest): M;
  /** Answers the request the decision let through: validate it, run the use case as `caller`, return the JSON. */
  handle(message: M, caller: Caller, req: RestRequest): Promise<unknown>;
}

/**
 * The {@link RestRoute} of `route`, decided by `access` with the rule of the RPC it stands for: the bearer token is
 * checked first (an anonymous caller learns nothing, not even that its request is malformed), then the request is
 * built and decided like the RPC, then handled with the decided caller. A route that stands for no RPC cannot be
 * built: it throws at startup.
 */
export function decidedRestRoute<M extends Message>(access: Pick<AccessControl, "authenticate" | "decide">, route: DecidedRestRoute<M>): RestRoute {
  const key = `${route.method} ${route.path}`;
  const procedure = REST_ROUTE_PROCEDURES[key];
  if (procedure === undefined) throw new Error(`REST route ${key} is not in REST_ROUTE_PROCEDURES: every route is decided by the rule of an RPC`);
  return {
    method: route.method,
    path: route.path,
    handler: async (req) => {
      await access.authenticate(req.headers);
      const message = route.request(req);
      const caller = await access.decide({ procedure, headers: req.headers, message });
      return route.handle(message, caller, req);
    },
  };
}

interface CompiledRoute {
  route: RestRoute;
  segments: string[];
}

/** A matched route with its decoded parameters, or why nothing matched. */
export type RouteMatch =
  | { kind: "route"; route: RestRoute; params: Record<string, string> }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "none" };

function split(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

/** Matches request paths against a fixed list of routes (`:name` segments are parameters). */
export class RestRouter {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly RestRoute[]) {
    this.compiled = routes.map((route) => {
      if (!route.path.startsWith("/")) throw new Error(`REST path "${route.path}" must start with "/"`);
      return { route, segments: split(route.path) };
    });
  }

  /** Finds the route for `method` and `pathname`; throws INVALID_ARGUMENT for a malformed %-escape. */
  match(method: string, pathname: string): RouteMatch {
    const parts = split(pathname);
    const allow: string[] = [];
    for (const { route, segments } of this.compiled) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const seg = segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith(":")) {
          try {
            params[seg.slice(1)] = decodeURIComponent(part);
          } catch {
            throw new ConnectError(`path segment "${part}" is not valid percent-encoding`, Code.InvalidArgument);
          }
        } else if (seg !== part) ok = false;
      }
      if (!ok) continue;
      if (route.method === method || (route.method === "GET" && method === "HEAD")) return { kind: "route", route, params };
      allow.push(route.method);
    }
    return allow.length > 0 ? { kind: "method-not-allowed", allow } : { kind: "none" };
  }
}

/** The only media type a state-changing (POST) REST request may declare, with optional parameters (`; charset=utf-8`). */
export const REST_BODY_MEDIA_TYPE = "application/json";

/**
 * The 415 answer for a state-changing REST request whose `content-type` is not `application/json`, or undefined when
 * it is. A browser sends `application/json` cross-site only after a CORS preflight, so a page on another origin cannot
 * post a form or a `text/plain` body to these routes; the check runs before the body is read.
 */
export function nonJsonBodyRefusal(headers: IncomingHttpHeaders): { status: 415; body: RestErrorBody } | undefined {
  const declared = headers["content-type"];
  const mediaType = (typeof declared === "string" ? declared : "").split(";")[0]!.trim().toLowerCase();
  if (mediaType === REST_BODY_MEDIA_TYPE) return undefined;
  return {
    status: 415,
    body: {
      code: "invalid_argument",
      message: `content-type: must be ${REST_BODY_MEDIA_TYPE}, got ${declared === undefined ? "none" : JSON.stringify(String(declared).slice(0, 100))}`,
      field: "content-type",
    },
  };
}

/** The status and JSON body a REST error is answered with; unexpected errors are logged and hidden. */
export function restError(err: unknown, logger: Logger): { status: number; body: RestErrorBody } {
  const ce = toConnectError(err, logger);
  const body: RestErrorBody = { code: codeName(ce.code), message: ce.rawMessage };
  const field = ce.metadata.get(ERROR_FIELD_HEADER);
  if (field) body.field = field;
  return { status: httpStatusFor(ce.code), body };
}

/**
 * The request message of a REST body: `body` (the parsed JSON, or undefined for none) read as `schema`'s JSON with
 * `fixed` (e.g. path parameters, `{ project_id: params.id }`) set over it. Unknown fields are INVALID_ARGUMENT naming
 * the field, as on the RPC paths; so is a body that is not a JSON object, or a field `fixed` already sets.
 */
export function parseRestBody<Desc extends DescMessage>(schema: Desc, body: unknown, fixed: Record<string, JsonValue> = {}): MessageShape<Desc> {
  if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body))) {
    throw invalidArgument("body", "must be a JSON object");
  }
  const fields = { ...((body ?? {}) as Record<string, JsonValue>) };
  for (const key of Object.keys(fixed)) {
    if (key in fields) throw invalidArgument(key, "is taken from the path; leave it out of the body");
  }
  try {
    return fromJson(schema, { ...fields, ...fixed }, { ignoreUnknownFields: false });
  } catch (err) {
    const mapped = clientFacingError(new ConnectError((err as Error).message, Code.InvalidArgument));
    const field = mapped.metadata.get(ERROR_FIELD_HEADER) ?? "body";
    const prefix = `${field}: `;
    throw invalidArgument(field, mapped.rawMessage.startsWith(prefix) ? mapped.rawMessage.slice(prefix.length) : mapped.rawMessage);
  }
}
