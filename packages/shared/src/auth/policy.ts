/**
 * Grants and the rules read from them: the caller's role in a project, whether it may act in a project, and which
 * projects it may view. Pure: no I/O (the file is read by policy-file.ts).
 */
import { parse as parseYaml } from "yaml";
import { ROLES, isRole, roleIncludes, strongerRole, type Role } from "./roles.js";

/** The `project` of a grant that matches every project, and the only one that covers assets with no project. */
export const ANY_PROJECT = "*";

/** One entry of the policy file: a subject or a group holds `role` in `project` (an id, or {@link ANY_PROJECT}). */
export interface Grant {
  readonly subject?: string;
  readonly group?: string;
  readonly project: string;
  readonly role: Role;
}

/** Who a caller is, as far as grants are concerned: the token's `sub` and `groups`. */
export interface Identity {
  readonly subject: string;
  readonly groups: readonly string[];
}

/**
 * Where an item belongs: a project id, or `null` for an item of no project (a shared base model or workflow), which
 * any caller holding some grant may view and which only a grant on {@link ANY_PROJECT} may change.
 */
export type ProjectRef = string | null;

/** The projects a caller may view: every project (a grant on `*`), or a finite set, possibly empty. */
export type ProjectScope = { readonly all: true } | { readonly all: false; readonly projects: ReadonlySet<string> };

/** A validated, indexed set of grants. Build it with {@link createPolicy} or {@link parsePolicy}. */
export interface Policy {
  readonly grants: readonly Grant[];
  /** Grants by subject, then by group, for lookups that do not scan the whole policy. */
  readonly bySubject: ReadonlyMap<string, readonly Grant[]>;
  readonly byGroup: ReadonlyMap<string, readonly Grant[]>;
}

/** A policy that cannot be used; `entry` is the path of the offending part, e.g. `grants[3].role`. */
export class PolicyError extends Error {
  constructor(
    readonly entry: string,
    message: string,
  ) {
    super(`${entry}: ${message}`);
    this.name = "PolicyError";
  }
}

const GRANT_KEYS = ["subject", "group", "project", "role"];

function index(grants: readonly Grant[], key: "subject" | "group"): Map<string, Grant[]> {
  const map = new Map<string, Grant[]>();
  for (const g of grants) {
    const k = g[key];
    if (k !== undefined) map.set(k, [...(map.get(k) ?? []), g]);
  }
  return map;
}

/** Indexes already-valid grants into a {@link Policy} (tests and the local issuer build policies this way). */
export function createPolicy(grants: readonly Grant[]): Policy {
  const frozen = Object.freeze(grants.map((g) => Object.freeze({ ...g })));
  return { grants: frozen, bySubject: index(frozen, "subject"), byGroup: index(frozen, "group") };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown, entry: string, what: string): string {
  if (typeof value === "number") throw new PolicyError(entry, `must be a string; quote a numeric ${what}: "${value}"`);
  if (typeof value !== "string" || value.trim() === "") throw new PolicyError(entry, `must be a non-empty string (${what})`);
  if (value !== value.trim()) throw new PolicyError(entry, `must not start or end with spaces`);
  return value;
}

/** Checks a parsed policy document (`{"grants": [...]}`) and indexes it; throws {@link PolicyError} naming the entry. */
export function validatePolicy(doc: unknown): Policy {
  if (!isMapping(doc)) throw new PolicyError("(root)", 'must be a mapping with a "grants" list');
  for (const key of Object.keys(doc)) {
    if (key !== "grants") throw new PolicyError(key, 'unknown key; a policy has only "grants"');
  }
  if (!("grants" in doc) || doc.grants === null || doc.grants === undefined) {
    throw new PolicyError("grants", "is required: a list of grants (it may be empty)");
  }
  if (!Array.isArray(doc.grants)) throw new PolicyError("grants", "must be a list");
  const grants = doc.grants.map((raw: unknown, i): Grant => {
    const at = `grants[${i}]`;
    if (!isMapping(raw)) throw new PolicyError(at, "must be a mapping of subject or group, project and role");
    for (const key of Object.keys(raw)) {
      if (!GRANT_KEYS.includes(key)) throw new PolicyError(`${at}.${key}`, `unknown key; a grant has ${GRANT_KEYS.join(", ")}`);
    }
    const hasSubject = raw.subject !== undefined;
    const hasGroup = raw.group !== undefined;
    if (hasSubject && hasGroup) throw new PolicyError(at, "has both subject and group; give exactly one");
    if (!hasSubject && !hasGroup) throw new PolicyError(at, "needs a subject or a group");
    const who = hasSubject
      ? { subject: nonEmptyString(raw.subject, `${at}.subject`, "subject") }
      : { group: nonEmptyString(raw.group, `${at}.group`, "group") };
    if (raw.project === undefined) throw new PolicyError(`${at}.project`, `is required: a project id or "${ANY_PROJECT}"`);
    const project = nonEmptyString(raw.project, `${at}.project`, "project id");
    if (raw.role === undefined) throw new PolicyError(`${at}.role`, `is required: one of ${ROLES.join(", ")}`);
    if (!isRole(raw.role)) throw new PolicyError(`${at}.role`, `unknown role ${JSON.stringify(raw.role)}; one of ${ROLES.join(", ")}`);
    return { ...who, project, role: raw.role };
  });
  return createPolicy(grants);
}

/**
 * Parses the text of a policy file: JSON when `format` is "json", else YAML (a superset of JSON, so either works);
 * duplicate keys are rejected. Throws {@link PolicyError}.
 */
export function parsePolicy(text: string, format: "json" | "yaml" = "yaml"): Policy {
  let doc: unknown;
  try {
    doc = format === "json" ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true, prettyErrors: false });
  } catch (err) {
    const detail = (err as Error).message.split("\n")[0];
    throw new PolicyError("(file)", `is not valid ${format === "json" ? "JSON" : "YAML"}: ${detail}`);
  }
  return validatePolicy(doc);
}

function grantsOf(policy: Policy, who: Identity): Grant[] {
  const out = [...(policy.bySubject.get(who.subject) ?? [])];
  for (const g of new Set(who.groups)) out.push(...(policy.byGroup.get(g) ?? []));
  return out;
}

/**
 * The caller's role in `project`: the strongest of its subject's and groups' grants on that project or on `*`.
 * For an item of no project (`null`) only grants on `*` count. `undefined` when it holds none.
 */
export function roleIn(policy: Policy, who: Identity, project: ProjectRef): Role | undefined {
  let best: Role | undefined;
  for (const g of grantsOf(policy, who)) {
    if (g.project === ANY_PROJECT || (project !== null && g.project === project)) best = strongerRole(best, g.role);
  }
  return best;
}

/** The projects the caller may view: `all` with any grant on `*`, else the projects it holds any grant on. */
export function viewableProjects(policy: Policy, who: Identity): ProjectScope {
  const projects = new Set<string>();
  for (const g of grantsOf(policy, who)) {
    if (g.project === ANY_PROJECT) return { all: true };
    projects.add(g.project);
  }
  return { all: false, projects };
}

/** Whether a scope includes `project`; an item of no project is viewable by anyone who may view some project. */
export function scopeIncludes(scope: ProjectScope, project: ProjectRef): boolean {
  if (scope.all) return true;
  return project === null ? scope.projects.size > 0 : scope.projects.has(project);
}

/**
 * Whether the caller may do what `role` allows in `project`. Viewing an item of no project needs a grant on some
 * project; changing it needs `role` on `*`.
 */
export function mayDo(policy: Policy, who: Identity, role: Role, project: ProjectRef): boolean {
  if (project === null && role === "viewer") return scopeIncludes(viewableProjects(policy, who), null);
  return roleIncludes(roleIn(policy, who, project), role);
}

/** Whether the caller holds `role` (or a stronger one) in at least one project. */
export function holdsRoleSomewhere(policy: Policy, who: Identity, role: Role): boolean {
  return grantsOf(policy, who).some((g) => roleIncludes(g.role, role));
}
