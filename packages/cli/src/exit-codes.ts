/** Exit codes scripts can rely on, and the one error type every command throws to choose one. */
import { Code, ConnectError } from "@connectrpc/connect";
import { ERROR_FIELD_HEADER } from "@provenance/shared";

/** The process exit codes of `provenance`, as documented in `provenance --help`. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  invalidArgument: 4,
  conflict: 5,
  unavailable: 6,
  /** No token, or one the services refuse (UNAUTHENTICATED), or a grant missing (PERMISSION_DENIED). */
  notSignedIn: 7,
  /** `provenance reproduce --wait`: the reproduction did not give back the receipt (OUTPUT_DIFFERS, INPUTS_DIFFER). */
  notReproduced: 8,
  /** `provenance verify`: a receipt or the receipt log does not hold (tampered, missing, inconsistent). */
  verificationFailed: 9,
  /** Ctrl-C while waiting (the shell's convention, 128 + SIGINT). */
  interrupted: 130,
} as const;

/** One of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit-code table printed by `provenance --help`. */
export const EXIT_CODE_HELP: readonly (readonly [ExitCodeValue, string])[] = [
  [ExitCode.ok, "ok"],
  [ExitCode.failure, "any other error"],
  [ExitCode.usage, "usage error: a missing or bad argument (the message names it)"],
  [ExitCode.notFound, "not found (segment, asset, version, batch)"],
  [ExitCode.invalidArgument, "the server rejected an argument (the message names the field)"],
  [ExitCode.conflict, "conflict or failed precondition (ALREADY_EXISTS, FAILED_PRECONDITION)"],
  [ExitCode.unavailable, "a service could not be reached or did not answer in time"],
  [ExitCode.notSignedIn, "not signed in (no token, or one the service refuses) or denied (no grant for that project)"],
  [ExitCode.notReproduced, "not reproduced: the output or the inputs differ from the receipt's (provenance reproduce --wait)"],
  [ExitCode.verificationFailed, "verification failed: a receipt or the receipt log does not hold (provenance verify)"],
  [ExitCode.interrupted, "interrupted by Ctrl-C while waiting (the batch keeps running)"],
];

/** An error that ends the command with a one-line message on stderr and a chosen exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCodeValue,
    message: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A bad or missing command-line argument (exit 2). */
export function usageError(message: string): CliError {
  return new CliError(ExitCode.usage, message);
}

/** Where a call went, so a failure can say which service and URL. */
export interface CallTarget {
  /** The service's short name: receipts, staleness or regeneration. */
  readonly service: string;
  readonly url: string;
}

function envVarOf(service: string): string {
  return `${service.toUpperCase()}_URL`;
}

/** The header naming why a token was refused (`expired`, `wrong_audience`, …). */
const AUTH_FAILURE_HEADER = "x-auth-failure";

/** What to do about a refused token, by the services' reason. */
const TOKEN_HINTS: Readonly<Record<string, string>> = {
  expired: "get a new token",
  missing: "set PROVENANCE_TOKEN or pass --token-file FILE",
};

/** Translates any error from an RPC to `target` into a {@link CliError} with one clear line. */
export function cliErrorFromRpc(err: unknown, target: CallTarget): CliError {
  if (err instanceof CliError) return err;
  // A CliError thrown while preparing the call (no token to present) may come back wrapped.
  if (err instanceof ConnectError && err.cause instanceof CliError) return err.cause;
  const ce = ConnectError.from(err);
  const message = ce.rawMessage;
  switch (ce.code) {
    case Code.NotFound:
      return new CliError(ExitCode.notFound, `not found: ${message}`);
    case Code.InvalidArgument:
    case Code.OutOfRange: {
      const field = ce.metadata.get(ERROR_FIELD_HEADER);
      const prefix = field && !message.startsWith(`${field}:`) ? `${field}: ` : "";
      return new CliError(ExitCode.invalidArgument, `invalid argument: ${prefix}${message}`);
    }
    case Code.AlreadyExists:
      return new CliError(ExitCode.conflict, `already exists: ${message}`);
    case Code.FailedPrecondition:
    case Code.Aborted:
      return new CliError(ExitCode.conflict, `failed precondition: ${message}`);
    case Code.Unavailable:
      return new CliError(
        ExitCode.unavailable,
        `the ${target.service} service at ${target.url} could not be reached (${message}); ` +
          `start the system with \`npm start\` or point ${envVarOf(target.service)} / --${target.service}-url at it`,
      );
    case Code.Unauthenticated: {
      // The CLI's own "no token" (a CliError) never gets here; this is the service refusing the token it was given.
      const reason = ce.metadata.get(AUTH_FAILURE_HEADER) ?? "";
      const hint = TOKEN_HINTS[reason] ?? "check PROVENANCE_TOKEN / --token-file (npx provenance auth token prints one in local mode)";
      return new CliError(ExitCode.notSignedIn, `not signed in: the ${target.service} service refused the token (${message}); ${hint}`);
    }
    case Code.PermissionDenied:
      return new CliError(ExitCode.notSignedIn, `denied: ${message} (ask an admin for a grant on that project in the access policy)`);
    case Code.DeadlineExceeded:
      return new CliError(
        ExitCode.unavailable,
        `the ${target.service} service at ${target.url} did not answer in time (${message}); is it running (\`npm start\`)?`,
      );
    default:
      return new CliError(ExitCode.failure, `${target.service} service error (${Code[ce.code] ?? ce.code}): ${message}`);
  }
}
