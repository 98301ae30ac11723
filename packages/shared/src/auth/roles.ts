/** The roles of the access contract, each including the ones before it. */

/** Every role, weakest first: `viewer < pipeline < creator < admin`. */
export const ROLES = ["viewer", "pipeline", "creator", "admin"] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** Whether `value` names a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** The position of `role` in {@link ROLES} (viewer 0 … admin 3); higher includes lower. */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

/** Whether holding `held` allows what `required` allows (`held` is `required` or a stronger role). */
export function roleIncludes(held: Role | undefined, required: Role): boolean {
  return held !== undefined && roleRank(held) >= roleRank(required);
}

/** The stronger of two roles; `undefined` stands for no role at all. */
export function strongerRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return roleRank(a) >= roleRank(b) ? a : b;
}
