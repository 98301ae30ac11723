import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { retryUnavailable } from "./loader.js";

/** A call failing with `codes` in turn, then answering "done"; counts its calls. */
function failing(codes: Code[]) {
  const calls = { n: 0 };
  const call = async () => {
    const code = codes[calls.n++];
    if (code !== undefined) throw new ConnectError("database unavailable, retry later", code);
    return "done";
  };
  return { call, calls };
}

describe("the loader's retry of UNAVAILABLE", () => {
  it("calls again while the service answers UNAVAILABLE, and returns the answer that follows", async () => {
    const { call, calls } = failing([Code.Unavailable, Code.Unavailable]);
    await expect(retryUnavailable(call, [1, 1, 1])).resolves.toBe("done");
    expect(calls.n).toBe(3);
  });

  it("throws the last UNAVAILABLE once every delay is spent", async () => {
    const { call, calls } = failing([Code.Unavailable, Code.Unavailable, Code.Unavailable, Code.Unavailable]);
    await expect(retryUnavailable(call, [1, 1, 1])).rejects.toMatchObject({ code: Code.Unavailable });
    expect(calls.n).toBe(4);
  });

  it("does not retry any other error", async () => {
    const { call, calls } = failing([Code.InvalidArgument]);
    await expect(retryUnavailable(call, [1, 1, 1])).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(calls.n).toBe(1);
  });
});
