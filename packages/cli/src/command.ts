/** What a command is and what it runs with. */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { toJsonString } from "@bufbuild/protobuf";
import type { OptionSpecs, ParsedArgs } from "./args.js";
import type { Clients } from "./clients.js";

/** Where the CLI writes and what it reads from its surroundings; the process's own streams in production. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: streams and waits end. */
  readonly signal?: AbortSignal;
}

/** What a running command gets. */
export interface CommandContext {
  readonly io: CliIo;
  readonly clients: Clients;
  /** `--json`: machine-readable proto JSON on stdout and nothing else. */
  readonly json: boolean;
  readonly signal: AbortSignal;
  /** How often `regen submit --wait` polls the batch. */
  readonly pollIntervalMs: number;
}

/** One command, e.g. `receipt show <segment-id>`. */
export interface Command {
  /** The words that name it, e.g. ["receipt", "show"]. */
  readonly path: readonly string[];
  /** Names of its positional arguments, e.g. ["segment-id"]. */
  readonly positionals: readonly string[];
  readonly summary: string;
  readonly options: OptionSpecs;
  /** Runs it; returns an exit code other than 0 only for outcomes that are not errors (e.g. failed jobs). */
  run(ctx: CommandContext, args: ParsedArgs): Promise<number | void>;
}

/** Writes `message` as proto JSON (zero values included, so scripts can rely on every field) and a newline. */
export function writeJson<D extends DescMessage>(ctx: CommandContext, schema: D, message: MessageShape<D>, pretty = true): void {
  ctx.io.stdout.write(`${toJsonString(schema, message, { alwaysEmitImplicit: true, prettySpaces: pretty ? 2 : 0 })}\n`);
}
