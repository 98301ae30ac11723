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

/** What a test asserts of a call that must fail: its code, its message and the field it names (x-error-field). */
export interface CallFailure {
  code: ConnectError["code"];
  message: string;
  field: string | null;
}

/** The code, message and field of the error `call` rejects with; throws (failing the test) when it resolves instead. */
export async function failureFields(call: Promise<unknown>): Promise<CallFailure> {
  const ce = await failureOf(call);
  return { code: ce.code, message: ce.rawMessage, field: ce.metadata.get("x-error-field") };
}
