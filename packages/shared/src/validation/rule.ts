/** The shape of a validation rule: bound once to a proto field at definition time, then checked per request. */
import type { DescEnum, DescField, DescMessage, ScalarType } from "@bufbuild/protobuf";
import { quoted } from "./text-checks.js";

/** One broken rule: the field path (`loras[1].asset.content_hash`) and what is wrong and what is expected. */
export interface Violation {
  readonly field: string;
  readonly message: string;
}

/** What a rule is bound to: a field, or the element of a repeated field (`each`). */
export interface RuleTarget {
  /** The field the rule sits on. */
  readonly field: DescField;
  /** `Message.field` (or `Message.field[]` for elements), for definition-time errors. */
  readonly where: string;
  /** What the value is: for a repeated field's element this is the element's kind. */
  readonly kind: "scalar" | "enum" | "message" | "list" | "map";
  readonly scalar?: ScalarType;
  readonly message?: DescMessage;
  readonly enum?: DescEnum;
  /** Whether an unset value is distinguishable from the zero value (message fields, proto3 `optional`). */
  readonly explicitPresence: boolean;
}

/** A bound rule: returns the first violation of `value` found at `path`, or undefined. */
export type Check = (value: unknown, path: string) => Violation | undefined;

/** A declarative rule; `bind` checks it fits the field (throwing at definition time if not) and returns its check. */
export interface Rule {
  /** A short description, used in definition-time errors. */
  readonly name: string;
  bind(target: RuleTarget): Check;
}

/** The target for a field of a message. */
export function fieldTarget(field: DescField, owner: DescMessage): RuleTarget {
  const where = `${owner.typeName}.${field.name}`;
  switch (field.fieldKind) {
    case "scalar":
      return { field, where, kind: "scalar", scalar: field.scalar, explicitPresence: field.presence === 1 || field.oneof !== undefined };
    case "enum":
      return { field, where, kind: "enum", enum: field.enum, explicitPresence: field.presence === 1 || field.oneof !== undefined };
    case "message":
      return { field, where, kind: "message", message: field.message, explicitPresence: true };
    case "list":
      return { field, where, kind: "list", explicitPresence: false };
    case "map":
      return { field, where, kind: "map", explicitPresence: false };
  }
}

/** The target for the elements of a repeated field. */
export function elementTarget(target: RuleTarget): RuleTarget {
  const field = target.field;
  if (field.fieldKind !== "list") throw new Error(`${target.where}: each() needs a repeated field`);
  const where = `${target.where}[]`;
  switch (field.listKind) {
    case "scalar":
      return { field, where, kind: "scalar", scalar: field.scalar, explicitPresence: false };
    case "enum":
      return { field, where, kind: "enum", enum: field.enum, explicitPresence: false };
    case "message":
      return { field, where, kind: "message", message: field.message, explicitPresence: false };
  }
}

/** Renders a value the client sent, short and safe to put into an error message (a long string is cut, never copied whole). */
export function shown(value: unknown): string {
  if (typeof value === "string") return quoted(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  return typeof value;
}
