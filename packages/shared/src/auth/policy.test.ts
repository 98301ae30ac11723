import { describe, expect, it } from "vitest";
import {
  ANY_PROJECT,
  PolicyError,
  createPolicy,
  holdsRoleSomewhere,
  mayDo,
  parsePolicy,
  roleIn,
  scopeIncludes,
  viewableProjects,
  type Identity,
  type ProjectRef,
} from "./policy.js";
import { ROLES, roleIncludes, type Role } from "./roles.js";

const policy = createPolicy([
  { subject: "viewer-a", project: "A", role: "viewer" },
  { subject: "pipeline-a", project: "A", role: "pipeline" },
  { subject: "creator-a", project: "A", role: "creator" },
  { subject: "admin-a", project: "A", role: "admin" },
  { subject: "admin-all", project: ANY_PROJECT, role: "admin" },
  { group: "team-a", project: "A", role: "creator" },
  // a subject with a weak own grant and a stronger group grant: the stronger wins
  { subject: "mixed", project: "A", role: "viewer" },
  { group: "leads", project: "A", role: "admin" },
  { subject: "viewer-all", project: ANY_PROJECT, role: "viewer" },
  { subject: "viewer-all", project: "B", role: "creator" },
]);

const who = (subject: string, groups: string[] = []): Identity => ({ subject, groups });

/** Expected: which roles each principal may exercise in A, in B and on an item of no project (shared). */
const MATRIX: { name: string; id: Identity; A: Role[]; B: Role[]; shared: Role[] }[] = [
  { name: "viewer of A", id: who("viewer-a"), A: ["viewer"], B: [], shared: ["viewer"] },
  { name: "pipeline of A", id: who("pipeline-a"), A: ["viewer", "pipeline"], B: [], shared: ["viewer"] },
  { name: "creator of A", id: who("creator-a"), A: ["viewer", "pipeline", "creator"], B: [], shared: ["viewer"] },
  { name: "admin of A", id: who("admin-a"), A: ["viewer", "pipeline", "creator", "admin"], B: [], shared: ["viewer"] },
  {
    name: "admin of *",
    id: who("admin-all"),
    A: ["viewer", "pipeline", "creator", "admin"],
    B: ["viewer", "pipeline", "creator", "admin"],
    shared: ["viewer", "pipeline", "creator", "admin"],
  },
  { name: "creator of A by group", id: who("someone", ["team-a"]), A: ["viewer", "pipeline", "creator"], B: [], shared: ["viewer"] },
  { name: "own viewer + group admin", id: who("mixed", ["leads"]), A: ["viewer", "pipeline", "creator", "admin"], B: [], shared: ["viewer"] },
  { name: "viewer of * and creator of B", id: who("viewer-all"), A: ["viewer"], B: ["viewer", "pipeline", "creator"], shared: ["viewer"] },
  { name: "no grant", id: who("stranger", ["nobody"]), A: [], B: [], shared: [] },
];

describe("grants", () => {
  for (const row of MATRIX) {
    for (const [label, project] of [["A", "A"], ["B", "B"], ["shared", null]] as [keyof typeof row & string, ProjectRef][]) {
      it(`${row.name} in ${label}`, () => {
        const allowed = row[label as "A" | "B" | "shared"];
        for (const role of ROLES) expect(mayDo(policy, row.id, role, project), `${role}`).toBe(allowed.includes(role));
      });
    }
  }

  it("the role in a project is the strongest matching grant, subject or group", () => {
    expect(roleIn(policy, who("mixed"), "A")).toBe("viewer");
    expect(roleIn(policy, who("mixed", ["leads"]), "A")).toBe("admin");
    expect(roleIn(policy, who("viewer-all"), "Z")).toBe("viewer");
    expect(roleIn(policy, who("viewer-all"), "B")).toBe("creator");
    expect(roleIn(policy, who("admin-a"), null)).toBeUndefined();
    expect(roleIn(policy, who("stranger"), "A")).toBeUndefined();
  });

  it("a grant for a subject does not match a group of the same name, nor the other way round", () => {
    expect(roleIn(policy, who("team-a"), "A")).toBeUndefined();
    expect(roleIn(policy, who("x", ["admin-all"]), "A")).toBeUndefined();
  });

  it("the viewable projects are `all` with a grant on *, else the granted projects", () => {
    expect(viewableProjects(policy, who("admin-all"))).toEqual({ all: true });
    expect(viewableProjects(policy, who("viewer-all"))).toEqual({ all: true });
    const a = viewableProjects(policy, who("pipeline-a", ["team-a"]));
    expect(a.all).toBe(false);
    expect(a.all === false && [...a.projects]).toEqual(["A"]);
    const none = viewableProjects(policy, who("stranger"));
    expect(none.all === false && none.projects.size).toBe(0);
    expect(scopeIncludes(a, "A")).toBe(true);
    expect(scopeIncludes(a, "B")).toBe(false);
    expect(scopeIncludes(a, null)).toBe(true);
    expect(scopeIncludes(none, null)).toBe(false);
  });

  it("holding a role somewhere", () => {
    expect(holdsRoleSomewhere(policy, who("viewer-a"), "viewer")).toBe(true);
    expect(holdsRoleSomewhere(policy, who("viewer-a"), "pipeline")).toBe(false);
    expect(holdsRoleSomewhere(policy, who("x", ["team-a"]), "creator")).toBe(true);
    expect(holdsRoleSomewhere(policy, who("stranger"), "viewer")).toBe(false);
  });

  it("roles include the ones before them", () => {
    expect(ROLES).toEqual(["viewer", "pipeline", "creator", "admin"]);
    expect(roleIncludes("admin", "viewer")).toBe(true);
    expect(roleIncludes("pipeline", "creator")).toBe(false);
    expect(roleIncludes(undefined, "viewer")).toBe(false);
  });
});

describe("parsePolicy", () => {
  const errorOf = (text: string, format: "json" | "yaml" = "yaml") => {
    try {
      parsePolicy(text, format);
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyError);
      return err as PolicyError;
    }
    throw new Error("expected a PolicyError");
  };

  it("reads YAML and JSON", () => {
    const yaml = parsePolicy(
      ["grants:", "  - subject: alice", '    project: "42"', "    role: creator", "  - group: ops", '    project: "*"', "    role: viewer"].join("\n"),
    );
    expect(yaml.grants).toEqual([
      { subject: "alice", project: "42", role: "creator" },
      { group: "ops", project: "*", role: "viewer" },
    ]);
    const json = parsePolicy(JSON.stringify({ grants: [{ group: "ops", project: "A", role: "admin" }] }), "json");
    expect(json.grants).toEqual([{ group: "ops", project: "A", role: "admin" }]);
    expect(parsePolicy("grants: []").grants).toEqual([]);
  });

  it("names the entry at fault", () => {
    const grants = [
      { subject: "a", project: "A", role: "viewer" },
      { subject: "b", project: "A", role: "viewer" },
      { subject: "c", project: "A", role: "viewer" },
      { subject: "d", project: "A", role: "owner" },
    ];
    const e = errorOf(JSON.stringify({ grants }), "json");
    expect(e.entry).toBe("grants[3].role");
    expect(e.message).toMatch(/^grants\[3\]\.role: unknown role "owner"; one of viewer, pipeline, creator, admin$/);

    expect(errorOf(JSON.stringify({ grants: [{ subject: "a", group: "g", project: "A", role: "viewer" }] })).entry).toBe("grants[0]");
    expect(errorOf(JSON.stringify({ grants: [grants[0], { project: "A", role: "viewer" }] })).message).toBe("grants[1]: needs a subject or a group");
    expect(errorOf(JSON.stringify({ grants: [grants[0], grants[1], { subject: "x", role: "viewer" }] })).entry).toBe("grants[2].project");
    expect(errorOf(JSON.stringify({ grants: [{ subject: "x", project: "A" }] })).entry).toBe("grants[0].role");
    expect(errorOf(JSON.stringify({ grants: [{ subject: "x", project: "A", role: "viewer", rol: "x" }] })).entry).toBe("grants[0].rol");
    expect(errorOf(JSON.stringify({ grants: [{ subject: "", project: "A", role: "viewer" }] })).entry).toBe("grants[0].subject");
    expect(errorOf("grants:\n  - subject: x\n    project: 42\n    role: viewer\n").message).toMatch(/grants\[0\]\.project: must be a string; quote a numeric project id: "42"/);
    expect(errorOf(JSON.stringify({ grants: ["alice"] })).entry).toBe("grants[0]");
    expect(errorOf(JSON.stringify({ grant: [] })).entry).toBe("grant");
    expect(errorOf("{}").entry).toBe("grants");
    expect(errorOf("").entry).toBe("(root)");
    expect(errorOf(JSON.stringify({ grants: {} })).entry).toBe("grants");
  });

  it("refuses text that does not parse, and duplicate keys", () => {
    expect(errorOf("{ not json", "json").message).toMatch(/^\(file\): is not valid JSON/);
    expect(errorOf("grants: [\n").message).toMatch(/^\(file\): is not valid YAML/);
    expect(errorOf("grants: []\ngrants: []\n").entry).toBe("(file)");
  });
});
