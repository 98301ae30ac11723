/** The error a call that must fail fails with, for assertions on its code and message. */
import { ConnectError } from "@connectrpc/connect";

/** The ConnectError `call` rejects with; throws (failing the test) when it resolves instead. */
export async function failureOf(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}
