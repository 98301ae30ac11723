/** Domain errors: what went wrong in the service's own terms, independent of any transport. */

/** The kinds of failure a service reports on purpose; everything else is an internal error. */
export type DomainErrorCode = "invalid_argument" | "not_found" | "already_exists" | "failed_precondition" | "unavailable";

/** An expected failure with a code of its own; `toConnectError` maps it to a Connect code. */
export class DomainError extends Error {
  override readonly name = "DomainError";
  readonly code: DomainErrorCode;
  /** The request field at fault (a path like `loras[1].asset.content_hash`), for invalid_argument. */
  readonly field?: string;

  constructor(code: DomainErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** Bad input in `field`; the message reads `field: message`, e.g. `source_image.content_hash: must be 64 hex digits`. */
export function invalidArgument(field: string, message: string): DomainError {
  return new DomainError("invalid_argument", `${field}: ${message}`, { field });
}

/**
 * Runs `f`; an INVALID_ARGUMENT it throws is re-thrown with its field under `prefix` (e.g. `receipts[3].` for an entry
 * of a batch request: `model.content_hash` becomes `receipts[3].model.content_hash`). Other errors pass unchanged.
 */
export function withFieldPrefix<T>(prefix: string, f: () => T): T {
  if (prefix === "") return f();
  try {
    return f();
  } catch (err) {
    if (err instanceof DomainError && err.code === "invalid_argument" && err.field !== undefined) {
      throw invalidArgument(`${prefix}${err.field}`, err.message.slice(err.field.length + 2));
    }
    throw err;
  }
}

/** An unknown id: `notFound("receipt", "r-1")` reads `receipt "r-1" not found`. */
export function notFound(what: string, id: string): DomainError {
  return new DomainError("not_found", `${what} "${id}" not found`);
}

/** A conflicting create or retry (e.g. the same idempotency key with different content). */
export function alreadyExists(message: string): DomainError {
  return new DomainError("already_exists", message);
}

/** The request is well-formed but the current state forbids it (immutability, state machine). */
export function failedPrecondition(message: string): DomainError {
  return new DomainError("failed_precondition", message);
}

/** A dependency is down or timed out; the caller may retry. `cause` is logged, never sent. */
export function unavailable(message: string, cause?: unknown): DomainError {
  return new DomainError("unavailable", message, { cause });
}

/** Whether `err` is a {@link DomainError}, optionally of one code. */
export function isDomainError(err: unknown, code?: DomainErrorCode): err is DomainError {
  return err instanceof DomainError && (code === undefined || err.code === code);
}
