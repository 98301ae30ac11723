/** The help texts: the overview of `provenance --help` and each command's own. */
import type { OptionSpecs } from "./args.js";
import type { Command } from "./command.js";
import { DEFAULT_URLS, DEFAULT_TIMEOUT_MS } from "./clients.js";
import { EXIT_CODE_HELP } from "./exit-codes.js";
import { renderTable } from "./output/table.js";

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  json: { type: "boolean", description: "print the response as proto JSON on stdout, and nothing else" },
  "receipts-url": { type: "string", value: "URL", description: `receipts service (env RECEIPTS_URL, default ${DEFAULT_URLS.receipts})` },
  "staleness-url": { type: "string", value: "URL", description: `staleness service (env STALENESS_URL, default ${DEFAULT_URLS.staleness})` },
  "regeneration-url": {
    type: "string",
    value: "URL",
    description: `regeneration service (env REGENERATION_URL, default ${DEFAULT_URLS.regeneration})`,
  },
  timeout: { type: "string", value: "SECONDS", description: `deadline of each call (default ${DEFAULT_TIMEOUT_MS / 1000})` },
  "token-file": {
    type: "string",
    value: "FILE",
    description: "present the token in FILE (else env PROVENANCE_TOKEN, else one from npm start's local issuer in PROVENANCE_DATA_DIR or .data)",
  },
  help: { type: "boolean", description: "show help" },
};

/** "receipt show <segment-id>". */
export function commandLine(c: Command): string {
  return [...c.path, ...c.positionals.map((p) => `<${p}>`)].join(" ");
}

function indent(text: string, by = "  "): string {
  return text
    .split("\n")
    .map((l) => (l ? by + l : l))
    .join("\n");
}

function optionRows(options: OptionSpecs): string[][] {
  return Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}`,
    `${o.description}${o.required ? " (required)" : ""}`,
  ]);
}

function twoColumns(rows: string[][]): string {
  // A table without a header line: render with empty headers and drop the first line.
  return renderTable([{ header: "" }, { header: "" }], rows).split("\n").slice(1).join("\n");
}

/** The text of `provenance --help`. */
export function overviewHelp(commands: readonly Command[]): string {
  return [
    "provenance: generation receipts, asset versions, staleness and targeted re-generation",
    "",
    "Usage: provenance <command> [arguments] [options]",
    "",
    "Commands:",
    indent(twoColumns(commands.map((c) => [commandLine(c), c.summary]))),
    "Options for every command:",
    indent(twoColumns(optionRows(GLOBAL_OPTIONS))),
    "Exit codes:",
    indent(twoColumns(EXIT_CODE_HELP.map(([code, text]) => [String(code), text]))),
    "Signing in: every call carries a token: --token-file FILE, else PROVENANCE_TOKEN, else (with npm start) one",
    "minted from its local issuer as the local user; `provenance auth token` prints one.",
    "",
    "Errors are one line on stderr. `provenance <command> --help` shows a command's options.",
    "",
  ].join("\n");
}

/** The text of `provenance <command> --help`. */
export function commandHelp(c: Command): string {
  const own = Object.keys(c.options).length ? ["Options:", indent(twoColumns(optionRows(c.options)))] : [];
  return [
    `Usage: provenance ${commandLine(c)}${Object.keys(c.options).length ? " [options]" : ""}`,
    "",
    c.summary,
    "",
    ...own,
    "Options for every command:",
    indent(twoColumns(optionRows(GLOBAL_OPTIONS))),
  ].join("\n");
}
