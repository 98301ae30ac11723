/** Command-line argument parsing on Node's util.parseArgs, with usage errors that name the argument. */
import { parseArgs } from "node:util";
import { AssetKind } from "@provenance/shared";
import { usageError } from "./exit-codes.js";

/** One option of a command. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** Placeholder of the value in help, e.g. "ID". */
  readonly value?: string;
  readonly description: string;
  /** A one-letter alias, e.g. "o" for `-o`. */
  readonly short?: string;
  /** Missing it is a usage error. */
  readonly required?: boolean;
  /** May be given more than once (string options); the values are a list. */
  readonly multiple?: boolean;
}

/** Options by long name (without the dashes). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What the command line gave: option values by name and the positional arguments. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * Parses `argv` against `options`, expecting exactly the positionals named in `positionalNames`
 * (e.g. ["segment-id"]). `command` (e.g. "receipt show") is named in error messages.
 */
export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  options: OptionSpecs,
  positionalNames: readonly string[],
): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(options).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw usageError(`${describeParseError(err as Error)} (see \`provenance ${command} --help\`)`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  for (const [name, spec] of Object.entries(options)) {
    const v = values[name];
    for (const one of Array.isArray(v) ? v : [v]) {
      if (spec.type === "string" && typeof one === "string" && one.trim() === "") {
        throw usageError(`--${name} must not be empty: expected ${spec.value ?? "a value"}`);
      }
    }
    if (spec.required && v === undefined) {
      throw usageError(`--${name} is required: expected --${name} ${spec.value ?? "VALUE"} (${spec.description})`);
    }
  }
  const positionals = parsed.positionals;
  const usage = `provenance ${command} ${positionalNames.map((n) => `<${n}>`).join(" ")}`.trimEnd();
  if (positionals.length < positionalNames.length) {
    throw usageError(`missing <${positionalNames[positionals.length]}>: expected \`${usage}\``);
  }
  if (positionals.length > positionalNames.length) {
    throw usageError(`unexpected argument "${positionals[positionalNames.length]}": expected \`${usage}\``);
  }
  for (const [i, name] of positionalNames.entries()) {
    if (positionals[i]!.trim() === "") throw usageError(`<${name}> must not be empty`);
  }
  return { values, positionals };
}

function describeParseError(err: Error): string {
  const code = (err as { code?: string }).code;
  const option = /'(-[^' ]+)/.exec(err.message)?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? err.message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/argument missing/.test(err.message)) return `${option} needs a value`;
      if (/does not take an argument/.test(err.message)) return `${option} is a switch and takes no value`;
      return err.message;
    default:
      return err.message;
  }
}

/** The string value of option `name`, or undefined. */
export function stringValue(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === "string" ? v.trim() : undefined;
}

/** Every value of a repeatable option `name`, trimmed (empty when absent). */
export function stringValues(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (Array.isArray(v)) return v.map((s) => s.trim());
  return typeof v === "string" ? [v.trim()] : [];
}

/** The string value of a required option (the parser has already checked it is present). */
export function requiredString(args: ParsedArgs, name: string): string {
  const v = stringValue(args, name);
  if (v === undefined) throw usageError(`--${name} is required`);
  return v;
}

/** Whether the switch `name` was given. */
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** Option `name` as a whole number of at least `min`, or undefined when absent. */
export function intValue(args: ParsedArgs, name: string, min = 1, max = 2 ** 32 - 1): number | undefined {
  const raw = stringValue(args, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw usageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

/** Option `name` as a comma-separated list of non-empty items (empty list when absent). */
export function listValue(args: ParsedArgs, name: string): string[] {
  const raw = stringValue(args, name);
  if (raw === undefined) return [];
  const items = raw.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw usageError(`--${name} must be a comma-separated list without empty items, got "${raw}"`);
  }
  return items;
}

/** The asset kinds as typed on the command line, in order. */
export const KIND_NAMES: readonly string[] = ["model", "lora", "workflow", "source-image", "variant-image"];

/** Parses an asset kind in kebab or upper case (lora, LORA, source-image, SOURCE_IMAGE, ASSET_KIND_LORA). */
export function parseAssetKind(raw: string, option = "--kind"): AssetKind {
  const name = raw
    .trim()
    .toUpperCase()
    .replaceAll("-", "_")
    .replace(/^ASSET_KIND_/, "");
  const kind = (AssetKind as unknown as Record<string, number | undefined>)[name];
  if (kind === undefined || kind === AssetKind.UNSPECIFIED) {
    throw usageError(`${option} must be one of ${KIND_NAMES.join(", ")}, got "${raw}"`);
  }
  return kind as AssetKind;
}

/** Checks a content hash: 64 hex digits (SHA-256), returned lower-cased. */
export function parseContentHash(raw: string, option = "--hash"): string {
  const hash = raw.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw usageError(`${option} must be a SHA-256 content hash (64 hex digits), got "${raw}"`);
  }
  return hash;
}
