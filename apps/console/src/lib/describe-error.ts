/** Turns a failed call into what happened and what to do, in words a creator can act on. */
import { Code, ConnectError } from "@connectrpc/connect";

/** A failure as shown to the user. */
export interface ErrorDescription {
  what: string;
  todo: string;
}

/** Describes `err` from a call to `service` (at `url`). */
export function describeError(err: unknown, service: string, url: string): ErrorDescription {
  const ce = ConnectError.from(err);
  switch (ce.code) {
    case Code.NotFound:
      return { what: `Not found: ${ce.rawMessage}.`, todo: "Check the link, or go back to the list and pick it from there." };
    case Code.InvalidArgument:
      return { what: `The ${service} service refused the request: ${ce.rawMessage}.`, todo: "Check the address you followed; it may be mistyped." };
    case Code.FailedPrecondition:
      return { what: `The ${service} service could not do this now: ${ce.rawMessage}.`, todo: "Reload to see the current state, then try again." };
    case Code.Unavailable:
    case Code.Unknown:
    case Code.Canceled:
    case Code.DeadlineExceeded:
      return {
        what: `The ${service} service at ${url} did not answer (${ce.rawMessage || "no response"}).`,
        todo: "Make sure the system is running (npm start) and that this address is right, then retry.",
      };
    default:
      return { what: `The ${service} service reported an error: ${ce.rawMessage || Code[ce.code]}.`, todo: "Retry; if it keeps failing, check the service's log." };
  }
}
