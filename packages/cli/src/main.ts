#!/usr/bin/env node
/** The `provenance` command: argv → command → exit code. */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { intValue, parseCommandArgs, stringValue } from "./args.js";
import { createClients, DEFAULT_TIMEOUT_MS, resolveUrls } from "./clients.js";
import type { CliIo, Command } from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { cliTokenSource } from "./credentials.js";
import { CliError, ExitCode, usageError } from "./exit-codes.js";
import { commandHelp, commandLine, GLOBAL_OPTIONS, overviewHelp } from "./help.js";

/** How `main` runs besides its arguments; tests shorten the poll interval. */
export interface MainOptions {
  /** How often `regen submit --wait` polls (default 500 ms). */
  pollIntervalMs?: number;
}

const HELP_FLAGS = new Set(["--help", "-h"]);

/** Finds the command named by the leading words of `argv`; returns it and the rest of the arguments. */
export function findCommand(argv: readonly string[], commands: readonly Command[] = COMMANDS): { command: Command; rest: string[] } {
  const matches = commands
    .filter((c) => c.path.every((word, i) => argv[i] === word))
    .sort((a, b) => b.path.length - a.path.length);
  const found = matches[0];
  if (found) return { command: found, rest: argv.slice(found.path.length) };
  const groups = [...new Set(commands.map((c) => c.path[0]!))];
  const group = argv[0] ?? "";
  if (groups.includes(group)) {
    const subs = commands.filter((c) => c.path[0] === group).map((c) => c.path[1]);
    const given = argv[1];
    const what = given === undefined || given.startsWith("-") ? `missing subcommand` : `unknown subcommand "${given}"`;
    throw usageError(`${what} for \`provenance ${group}\`: expected one of ${subs.join(", ")}`);
  }
  throw usageError(`unknown command "${group}": expected one of ${groups.join(", ")} (see \`provenance --help\`)`);
}

function groupHelp(group: string): string | undefined {
  const members = COMMANDS.filter((c) => c.path[0] === group && c.path.length > 1);
  if (members.length === 0) return undefined;
  return `Commands of provenance ${group}:\n${members.map((c) => `  provenance ${commandLine(c)}\n      ${c.summary}\n`).join("")}`;
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code; never throws. */
export async function main(argv: readonly string[], io: CliIo, options: MainOptions = {}): Promise<number> {
  try {
    if (argv.length === 0) {
      io.stderr.write(overviewHelp(COMMANDS));
      return ExitCode.usage;
    }
    if (HELP_FLAGS.has(argv[0]!) || argv[0] === "help") {
      io.stdout.write(overviewHelp(COMMANDS));
      return ExitCode.ok;
    }
    if (argv.length >= 2 && HELP_FLAGS.has(argv[1]!)) {
      const text = groupHelp(argv[0]!);
      if (text) {
        io.stdout.write(text);
        return ExitCode.ok;
      }
    }
    const { command, rest } = findCommand(argv);
    if (rest.some((a) => HELP_FLAGS.has(a))) {
      io.stdout.write(`${commandHelp(command)}\n`);
      return ExitCode.ok;
    }
    const name = command.path.join(" ");
    const args = parseCommandArgs(name, rest, { ...GLOBAL_OPTIONS, ...command.options }, command.positionals);
    const urls = resolveUrls(
      {
        receipts: stringValue(args, "receipts-url"),
        staleness: stringValue(args, "staleness-url"),
        regeneration: stringValue(args, "regeneration-url"),
      },
      io.env,
    );
    const timeoutSeconds = intValue(args, "timeout", 1, 3600);
    const token = cliTokenSource(stringValue(args, "token-file"), io.env);
    const clients = createClients(urls, token, timeoutSeconds === undefined ? DEFAULT_TIMEOUT_MS : timeoutSeconds * 1000);
    const code = await command.run(
      {
        io,
        clients,
        json: args.values.json === true,
        signal: io.signal ?? new AbortController().signal,
        pollIntervalMs: options.pollIntervalMs ?? 500,
      },
      args,
    );
    return code ?? ExitCode.ok;
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(`provenance: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`provenance: unexpected error: ${message.split("\n")[0]}\n`);
    return ExitCode.failure;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const controller = new AbortController();
  process.on("SIGINT", () => {
    // The first Ctrl-C ends watches and waits cleanly; a second one does not wait for that.
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    controller.abort();
  });
  // A closed pipe (`provenance ... | head`) is not an error worth a stack trace.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(ExitCode.ok);
  });
  const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal });
  process.exitCode = code;
  // Idle keep-alive sockets must not hold the process open once the command is done.
  setTimeout(() => process.exit(code), 2000).unref();
}
