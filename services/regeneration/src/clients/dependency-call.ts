/** One call to another service: NOT_FOUND as "absent", a transient failure as UNAVAILABLE naming the service and URL. */
import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import { actingFor, type Caller } from "@provenance/shared/auth";
import { unavailable } from "@provenance/shared";

/** Codes that mean "the dependency could not answer now"; anything else is a bug and stays as it is. */
const TRANSIENT = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Canceled, Code.Unknown, Code.ResourceExhausted, Code.Aborted, Code.Internal]);

/** Runs `fn`; NOT_FOUND → undefined, a transient failure → UNAVAILABLE (`service` at `url` could not `what`). */
export async function callDependency<T>(service: string, url: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const ce = ConnectError.from(err);
    if (ce.code === Code.NotFound) return undefined;
    if (TRANSIENT.has(ce.code)) throw unavailable(`${service} at ${url} is unavailable (could not ${what}): ${ce.rawMessage}`, err);
    throw err;
  }
}

/** Call options with a deadline, presenting the caller's token when reading for one. */
export function dependencyCallOptions(timeoutMs: number, caller: Caller | undefined): CallOptions {
  const options = { timeoutMs };
  return caller ? actingFor(caller, options) : options;
}
