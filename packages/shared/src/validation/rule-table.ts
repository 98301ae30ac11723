/** Rule tables: the input rules of one message, declared once, keyed by proto field name. */
import type { DescField, DescMessage, MessageShape } from "@bufbuild/protobuf";
import { invalidArgument } from "../errors/index.js";
import { DEFAULT_REQUEST_LIMITS, assertRequestLimits, type RequestLimits } from "./request-limits.js";
import { fieldTarget, type Check, type Rule, type Violation } from "./rule.js";

/** Rules keyed by proto field name (snake_case, as in the .proto file). */
export type FieldRules = Readonly<Record<string, Rule>>;

/** Cross-field checks run after every field rule passed; return the violation (name the field) or undefined. */
export type Refinement<Desc extends DescMessage> = (message: MessageShape<Desc>) => Violation | undefined;

/** The rules of one request (or event) message, ready to check. */
export interface RuleTable<Desc extends DescMessage = DescMessage> {
  readonly schema: Desc;
  /** The first violation in `message`, with field paths under `prefix` (e.g. "receipt."), or undefined. */
  check(message: MessageShape<Desc>, prefix?: string): Violation | undefined;
}

interface CompiledField {
  readonly field: DescField;
  readonly check: Check;
}

function valueOf(message: Record<string, unknown>, field: DescField): unknown {
  if (field.oneof) {
    const group = message[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
    return group?.case === field.localName ? group.value : undefined;
  }
  return message[field.localName];
}

function compile(desc: DescMessage, rules: FieldRules): CompiledField[] {
  return Object.entries(rules).map(([name, rule]) => {
    const field = desc.fields.find((f) => f.name === name);
    if (!field) {
      const known = desc.fields.map((f) => f.name).join(", ");
      throw new Error(`validation rules for ${desc.typeName} name the unknown field "${name}"; its fields are ${known}`);
    }
    return { field, check: rule.bind(fieldTarget(field, desc)) };
  });
}

function checkFields(compiled: readonly CompiledField[], message: unknown, prefix: string): Violation | undefined {
  for (const { field, check } of compiled) {
    const v = check(valueOf(message as Record<string, unknown>, field), `${prefix}${field.name}`);
    if (v) return v;
  }
  return undefined;
}

const defined = new Map<string, RuleTable[]>();

/**
 * Declares the rules of `schema`'s messages: each key is a proto field name, checked against the schema now
 * (an unknown name or a rule that does not fit the field's type throws at startup). Fields without a rule are held
 * only to the request limits (request-limits.ts), which every request meets before its tables run: a table can
 * tighten them, never loosen them.
 */
export function defineRules<Desc extends DescMessage>(
  schema: Desc,
  rules: FieldRules,
  options: { refine?: Refinement<Desc> } = {},
): RuleTable<Desc> {
  const compiled = compile(schema, rules);
  const table: RuleTable<Desc> = {
    schema,
    check(message, prefix = "") {
      const v = checkFields(compiled, message, prefix);
      if (v || !options.refine) return v;
      const refined = options.refine(message);
      return refined && { field: `${prefix}${refined.field}`, message: refined.message };
    },
  };
  defined.set(schema.typeName, [...(defined.get(schema.typeName) ?? []), table as RuleTable]);
  return table;
}

/** A nested message checked by `rules` (field names of the nested type) or by an existing table of that type; unset passes (wrap in `required`). */
export function message(rules: FieldRules | RuleTable): Rule {
  return {
    name: "message",
    bind(target) {
      const desc = target.message;
      if (target.kind !== "message" || !desc) throw new Error(`validation rule message() does not fit ${target.where}: it needs a message field`);
      if (isRuleTable(rules)) {
        if (rules.schema.typeName !== desc.typeName) {
          throw new Error(`validation rule message() on ${target.where}: the table is for ${rules.schema.typeName}, the field is ${desc.typeName}`);
        }
        return (value, path) => (value === undefined ? undefined : rules.check(value as never, `${path}.`));
      }
      const compiled = compile(desc, rules);
      return (value, path) => (value === undefined ? undefined : checkFields(compiled, value, `${path}.`));
    },
  };
}

function isRuleTable(x: FieldRules | RuleTable): x is RuleTable {
  return typeof (x as RuleTable).check === "function" && typeof (x as RuleTable).schema === "object";
}

/** The tables among `tables` that apply to messages of `typeName`. */
export function tablesFor(tables: readonly RuleTable[], typeName: string): RuleTable[] {
  return tables.filter((t) => t.schema.typeName === typeName);
}

/**
 * Checks `message` and throws INVALID_ARGUMENT (a DomainError naming the field path) at the first violation: first
 * the request limits every request is held to (`limits`, default {@link DEFAULT_REQUEST_LIMITS}), then the tables.
 * With `rules`, the tables among them for `schema` apply; without, every table `defineRules` made for `schema`.
 * Throws a plain Error when no table exists for `schema` (a wiring bug, not bad input).
 */
export function validate<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  rules?: RuleTable | readonly RuleTable[],
  limits: RequestLimits = DEFAULT_REQUEST_LIMITS,
): void {
  const candidates = rules === undefined ? (defined.get(schema.typeName) ?? []) : tablesFor(Array.isArray(rules) ? rules : [rules as RuleTable], schema.typeName);
  if (candidates.length === 0) throw new Error(`no validation rules are defined for ${schema.typeName}`);
  assertRequestLimits(schema, message, limits);
  for (const table of candidates) {
    const v = table.check(message);
    if (v) throw invalidArgument(v.field, v.message);
  }
}
