/**
 * The one access decision: authenticate the bearer token, find the RPC's rule, find the projects the request names
 * or touches, and answer as the contract says. The Connect interceptor and the REST routes both call it.
 */
import type { DescField, DescMessage, DescService, Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { invalidArgument, toConnectError } from "../errors/index.js";
import { AssetService } from "../gen/provenance/v1/assets_pb.js";
import { ReceiptService } from "../gen/provenance/v1/receipts_pb.js";
import { RegenerationService } from "../gen/provenance/v1/regeneration_pb.js";
import { StalenessService } from "../gen/provenance/v1/staleness_pb.js";
import { describeTextFault } from "../validation/text-checks.js";
import { ACCESS_TABLE, ITEM_NOT_FOUND_NOUNS, type AccessRule, type AccessTable, type ItemKind, type ProjectSource } from "./access-table.js";
import type { PolicySource } from "./policy-file.js";
import { holdsRoleSomewhere, mayDo, roleIn, scopeIncludes, viewableProjects, type Policy, type ProjectRef, type ProjectScope } from "./policy.js";
import { bearerTokenOf, type Principal, type RequestHeaders } from "./principal.js";
import { roleIncludes, type Role } from "./roles.js";
import type { TokenVerifier } from "./token-verifier.js";

/** The services of the provenance API, whose methods the access table covers. */
export const PROVENANCE_SERVICES: readonly DescService[] = [ReceiptService, AssetService, StalenessService, RegenerationService];

/**
 * Gives the project of each id it knows (`null` for an item of no project, such as a shared asset); ids it does not
 * know — including malformed ones, which it must not throw on — are simply absent. Called once per request and item
 * kind with every id the request names, so one query serves a batch.
 */
export type ProjectResolver = (ids: readonly string[]) => Promise<ReadonlyMap<string, ProjectRef>>;

/** A service's resolvers, one per item kind its RPCs name (receipts: receipt, segment; staleness: asset; regeneration: batch). */
export type ProjectResolvers = Partial<Readonly<Record<ItemKind, ProjectResolver>>>;

/** One request to decide on. */
export interface AccessRequest {
  /** Full RPC name: `provenance.v1.ReceiptService/GetReceipt` (a REST route passes the RPC it stands for). */
  procedure: string;
  /** The request headers (for `authorization`). */
  headers: RequestHeaders;
  /** The request message (a REST route builds it from its path and body first). */
  message: Message;
}

/** An authenticated caller allowed to make this request, with what handlers need to record and to filter. */
export interface Caller {
  readonly principal: Principal;
  /** The RPC decided on. */
  readonly procedure: string;
  /** The rule it was decided by. */
  readonly rule: AccessRule;
  /** The projects the caller may view, for filtering lists, reports, usage and streams (from the policy at decision time). */
  readonly viewable: ProjectScope;
  /** Whether the caller may view `project` (an item of no project: whenever it may view some project). */
  canView(project: ProjectRef): boolean;
  /** Whether the caller may do what `role` allows in `project`. */
  may(role: Role, project: ProjectRef): boolean;
  /** The caller's role in `project`, if any. */
  roleIn(project: ProjectRef): Role | undefined;
}

/** What {@link createAccessControl} decides with. */
export interface AccessControlOptions {
  verifier: TokenVerifier;
  policy: PolicySource;
  /** The service's item resolvers; a rule needing one that is missing is refused (and logged). */
  resolvers?: ProjectResolvers;
  /** Default {@link ACCESS_TABLE}. */
  table?: AccessTable;
  /** The services whose descriptors the table's field paths are read with (default {@link PROVENANCE_SERVICES}). */
  services?: readonly DescService[];
  /** Where refusals that point at a wiring fault (no rule, no resolver) are logged. */
  logger?: Logger;
}

/** The decision, for the interceptor and for REST routes. */
export interface AccessControl {
  /** The principal of the request's bearer token; throws UNAUTHENTICATED. */
  authenticate(headers: RequestHeaders): Promise<Principal>;
  /**
   * Decides one request: UNAUTHENTICATED (no or bad token), PERMISSION_DENIED (no rule for the RPC, a write or a
   * project-named read the caller may not make, no grant at all), NOT_FOUND (a read of an item in a project the caller
   * cannot view, worded like the handler's), INVALID_ARGUMENT (a required project or item field is empty).
   * Resolves to the {@link Caller} when the request may proceed.
   */
  decide(req: AccessRequest): Promise<Caller>;
}

/** One value found at a rule's field path in a request. */
export interface FoundValue {
  /** e.g. `receipts[3].project_id` */
  path: string;
  value: string;
  /** The message holding the field (for NOT_FOUND templates). */
  holder: Message;
}

/** A project source ready to read requests. */
export interface CompiledSource {
  source: ProjectSource;
  read(message: Message): FoundValue[];
  /** For a lookup: the NOT_FOUND text of a hidden item, worded like the handler's. */
  notFoundText?: (found: FoundValue) => string;
}

/** A rule with its sources compiled against the request descriptor. */
export interface CompiledRule {
  rule: AccessRule;
  sources: CompiledSource[];
}

function fieldNamed(desc: DescMessage, name: string, procedure: string): DescField {
  const f = desc.fields.find((x) => x.name === name);
  if (!f) throw new Error(`access table: ${procedure}: ${desc.typeName} has no field "${name}"`);
  return f;
}

/**
 * Compiles `receipts[].project_id` against the request descriptor into a reader of every value at that path, and
 * the descriptor of the message holding the last field.
 */
function compilePath(input: DescMessage, path: string, procedure: string): { read: (m: Message) => FoundValue[]; holder: DescMessage } {
  const parts = path.split(".");
  type Step = { field: DescField; repeated: boolean };
  const steps: Step[] = [];
  let desc: DescMessage = input;
  parts.forEach((part, i) => {
    const repeated = part.endsWith("[]");
    const f = fieldNamed(desc, repeated ? part.slice(0, -2) : part, procedure);
    const last = i === parts.length - 1;
    if (last) {
      if (repeated || f.fieldKind !== "scalar") throw new Error(`access table: ${procedure}: "${path}" must end at a singular scalar field`);
    } else if (repeated) {
      if (f.fieldKind !== "list" || f.listKind !== "message") throw new Error(`access table: ${procedure}: "${part}" is not a repeated message field`);
      desc = f.message;
    } else {
      if (f.fieldKind !== "message") throw new Error(`access table: ${procedure}: "${part}" is not a message field`);
      desc = f.message;
    }
    steps.push({ field: f, repeated });
  });
  const read = (message: Message) => {
    let frontier: { holder: Message; path: string }[] = [{ holder: message, path: "" }];
    const out: FoundValue[] = [];
    steps.forEach((step, i) => {
      const key = step.field.localName;
      const name = step.field.name;
      const next: { holder: Message; path: string }[] = [];
      for (const { holder, path: at } of frontier) {
        const value = (holder as unknown as Record<string, unknown>)[key];
        if (i === steps.length - 1) {
          out.push({ path: `${at}${name}`, value: value === undefined || value === null ? "" : String(value), holder });
        } else if (step.repeated) {
          (value as Message[] | undefined)?.forEach((m, j) => next.push({ holder: m, path: `${at}${name}[${j}].` }));
        } else if (value !== undefined) {
          next.push({ holder: value as Message, path: `${at}${name}.` });
        }
      }
      frontier = next;
    });
    return out;
  };
  return { read, holder: desc };
}

/** `<what> "<id>" not found` with the template's `{field}`s filled from the holder (the handlers' notFound() wording). */
function compileNotFound(source: Extract<ProjectSource, { from: "lookup" }>, holder: DescMessage, procedure: string): (found: FoundValue) => string {
  const what = source.notFound?.what ?? ITEM_NOT_FOUND_NOUNS[source.item];
  const template = source.notFound?.id ?? `{${source.field.split(".").at(-1)!}}`;
  const pieces = template.split(/(\{[a-z0-9_]+\})/).map((piece) => {
    const m = /^\{([a-z0-9_]+)\}$/.exec(piece);
    return m ? { local: fieldNamed(holder, m[1]!, procedure).localName } : { text: piece };
  });
  return (found) => {
    const fields = found.holder as unknown as Record<string, unknown>;
    const id = pieces.map((p) => ("text" in p ? p.text : String(fields[p.local] ?? ""))).join("");
    return `${what} "${id}" not found`;
  };
}

/** Compiles every rule of `table` whose method is one of `services`; a path that names no field throws. */
export function compileAccessTable(table: AccessTable, services: readonly DescService[]): ReadonlyMap<string, CompiledRule> {
  const compiled = new Map<string, CompiledRule>();
  for (const service of services) {
    for (const method of service.methods) {
      const procedure = `${service.typeName}/${method.name}`;
      const rule = table[procedure];
      if (!rule) continue;
      const sources = rule.projects.map((source): CompiledSource => {
        const { read, holder } = compilePath(method.input, source.field, procedure);
        return source.from === "lookup" ? { source, read, notFoundText: compileNotFound(source, holder, procedure) } : { source, read };
      });
      compiled.set(procedure, { rule, sources });
    }
  }
  return compiled;
}

/** The methods of `services` that `table` has no rule for (`Service/Method`); empty when every RPC is covered. */
export function missingAccessRules(services: readonly DescService[], table: AccessTable = ACCESS_TABLE): string[] {
  return services.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`)).filter((p) => table[p] === undefined);
}

const SHARED_DENIED = (role: Role) => `permission denied: needs the ${role} role on every project ("*") to change what belongs to no project`;

function permissionDenied(message: string): ConnectError {
  return new ConnectError(message, Code.PermissionDenied);
}

function callerFor(principal: Principal, procedure: string, rule: AccessRule, policy: Policy): Caller {
  const viewable = viewableProjects(policy, principal);
  return Object.freeze({
    principal,
    procedure,
    rule,
    viewable,
    canView: (project: ProjectRef) => scopeIncludes(viewable, project),
    may: (role: Role, project: ProjectRef) => mayDo(policy, principal, role, project),
    roleIn: (project: ProjectRef) => roleIn(policy, principal, project),
  });
}

type Target =
  | { kind: "named"; project: ProjectRef; path: string }
  | { kind: "item"; project: ProjectRef; text: () => string };

/** Builds the access decision over a verifier, a policy and the service's resolvers. */
export function createAccessControl(opts: AccessControlOptions): AccessControl {
  const rules = compileAccessTable(opts.table ?? ACCESS_TABLE, opts.services ?? PROVENANCE_SERVICES);
  const resolvers = opts.resolvers ?? {};
  const log = opts.logger;

  const authenticate = (headers: RequestHeaders) => opts.verifier.verify(bearerTokenOf(headers));

  async function decide(req: AccessRequest): Promise<Caller> {
    const principal = await authenticate(req.headers);
    const compiled = rules.get(req.procedure);
    if (!compiled) {
      log?.error({ procedure: req.procedure }, "no access rule for this RPC; refusing it");
      throw permissionDenied(`permission denied: ${req.procedure} has no access rule`);
    }
    const { rule, sources } = compiled;
    const policy = await opts.policy.current();

    const targets: Target[] = [];
    const pending = new Map<ItemKind, { id: string; text: () => string }[]>();
    let unstorable = false;
    for (const { source, read, notFoundText } of sources) {
      for (const found of read(req.message)) {
        if (found.value === "") {
          if (source.whenEmpty === "invalid") throw toConnectError(invalidArgument(found.path, "is required: send a non-empty id"));
          if (source.whenEmpty === "shared") targets.push({ kind: "named", project: null, path: found.path });
          continue;
        }
        if (source.from === "field") targets.push({ kind: "named", project: found.value, path: found.path });
        // An id no database can store (NUL, a lone surrogate) names no item: not looked up (PostgreSQL would refuse the
        // query and the caller see INTERNAL), so it goes on as an unknown id, to the validation's INVALID_ARGUMENT.
        else if (describeTextFault(found.value) !== undefined) unstorable = true;
        else {
          const list = pending.get(source.item) ?? [];
          list.push({ id: found.value, text: () => notFoundText!(found) });
          pending.set(source.item, list);
        }
      }
    }
    // A caller holding the rule's role on "*" passes the check below for every project and for items of none, so
    // which project an item belongs to cannot change the answer: it is not looked up (one statement less per call of a
    // service account or an admin). The resolver must still exist: a service missing one fails closed for everyone.
    const everywhere = roleIncludes(roleIn(policy, principal, null), rule.role);
    for (const [item, wanted] of pending) {
      const resolve = resolvers[item];
      if (!resolve) {
        log?.error({ procedure: req.procedure, item }, `no ${item} resolver configured; refusing the request`);
        throw permissionDenied(`permission denied: this service cannot resolve ${item} ids`);
      }
      if (everywhere) continue;
      const projects = await resolve([...new Set(wanted.map((w) => w.id))]);
      for (const w of wanted) {
        // An unknown id is the handler's to answer (NOT_FOUND); deciding here would only add a second wording.
        if (!projects.has(w.id)) continue;
        targets.push({ kind: "item", project: projects.get(w.id)!, text: w.text });
      }
    }

    const isRead = rule.role === "viewer";
    for (const t of targets) {
      if (mayDo(policy, principal, rule.role, t.project)) continue;
      if (t.kind === "item") {
        if (isRead) throw new ConnectError(t.text(), Code.NotFound);
        // That an item is shared may be said to whoever may view shared items; its project is never named, as it
        // may be one the caller cannot see.
        if (t.project === null && mayDo(policy, principal, "viewer", null)) throw permissionDenied(SHARED_DENIED(rule.role));
        throw permissionDenied(`permission denied: needs the ${rule.role} role in the project this request changes`);
      }
      throw permissionDenied(
        t.project === null ? SHARED_DENIED(rule.role) : `permission denied: needs the ${rule.role} role in project "${t.project}" (${t.path})`,
      );
    }
    // Nothing to check against (a list, or only unknown items): a write or a list still needs the role somewhere. A
    // read of an unknown item goes on to the handler's NOT_FOUND whoever asks, as a hidden item gets NOT_FOUND too.
    const readOfUnknownItem = isRead && (pending.size > 0 || unstorable);
    if (targets.length === 0 && !readOfUnknownItem && !holdsRoleSomewhere(policy, principal, rule.role)) {
      throw permissionDenied(`permission denied: no ${rule.role} grant in any project`);
    }
    return callerFor(principal, req.procedure, rule, policy);
  }

  return { authenticate, decide };
}
