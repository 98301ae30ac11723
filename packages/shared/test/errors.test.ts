import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  DomainError,
  alreadyExists,
  codeName,
  failedPrecondition,
  httpStatusFor,
  invalidArgument,
  notFound,
  toConnectError,
  withFieldPrefix,
  unavailable,
  unavailableDependency,
} from "../src/errors/index.js";

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe("domain errors", () => {
  it("carry a code, the field and a message naming the field", () => {
    const err = invalidArgument("source_image.content_hash", "must be 64 hex digits");
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe("invalid_argument");
    expect(err.field).toBe("source_image.content_hash");
    expect(err.message).toBe("source_image.content_hash: must be 64 hex digits");
    expect(notFound("receipt", "r-1").message).toBe('receipt "r-1" not found');
    expect(unavailable("db down", new Error("x")).cause).toBeInstanceOf(Error);
  });
});

describe("toConnectError", () => {
  it.each([
    [invalidArgument("f", "bad"), Code.InvalidArgument],
    [notFound("segment", "s"), Code.NotFound],
    [alreadyExists("dup"), Code.AlreadyExists],
    [failedPrecondition("immutable"), Code.FailedPrecondition],
    [unavailable("down"), Code.Unavailable],
  ])("maps %s", (err, code) => {
    const ce = toConnectError(err);
    expect(ce.code).toBe(code);
    expect(ce.rawMessage).toBe(err.message);
    expect(ce.cause).toBe(err);
  });

  it("puts the field into the error metadata", () => {
    expect(toConnectError(invalidArgument("loras[1].weight", "must be finite")).metadata.get("x-error-field")).toBe("loras[1].weight");
  });

  it("passes a ConnectError through unchanged", () => {
    const ce = new ConnectError("nope", Code.PermissionDenied);
    expect(toConnectError(ce)).toBe(ce);
  });

  it("hides unknown errors behind INTERNAL and logs the cause", () => {
    const { logger, lines } = capturingLogger();
    const cause = new Error('duplicate key value violates unique constraint "x" SELECT * FROM receipts');
    const ce = toConnectError(cause, logger);
    expect(ce.code).toBe(Code.Internal);
    expect(ce.rawMessage).toBe("internal error");
    expect(ce.message).not.toContain("SELECT");
    expect(ce.cause).toBe(cause);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(50);
    expect(JSON.stringify(lines[0])).toContain("SELECT");
    expect(toConnectError("a string").code).toBe(Code.Internal);
    expect(toConnectError(undefined).code).toBe(Code.Internal);
  });

  it("maps database and NATS connection failures to UNAVAILABLE without their text", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const typeorm = Object.assign(new Error("query failed"), { driverError: refused });
    const aggregate = new AggregateError([refused], "");
    const pgShutdown = Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" });
    const pgClass08 = Object.assign(new Error("x"), { code: "08006" });
    const terminated = new Error("Connection terminated unexpectedly");
    const natsClosed = Object.assign(new Error("closed connection"), { name: "ClosedConnectionError" });
    const wrapped = new Error("publish failed", { cause: natsClosed });
    for (const err of [refused, typeorm, aggregate, pgShutdown, pgClass08, terminated, natsClosed, wrapped]) {
      const ce = toConnectError(err, pino({ level: "silent" }));
      expect(ce.code, String(err)).toBe(Code.Unavailable);
      expect(ce.rawMessage).not.toContain("5432");
    }
    expect(unavailableDependency(natsClosed)).toBe("message bus");
    expect(unavailableDependency(pgShutdown)).toBe("database");
    expect(unavailableDependency(Object.assign(new Error("x"), { code: "23505" }))).toBeUndefined();
  });

  it("maps an AbortError to CANCELED", () => {
    expect(toConnectError(new DOMException("aborted", "AbortError")).code).toBe(Code.Canceled);
  });

  it("logs the cause of an UNAVAILABLE domain error at warn", () => {
    const { logger, lines } = capturingLogger();
    toConnectError(unavailable("AssetService down", new Error("ECONNREFUSED")), logger);
    expect(lines[0]!.level).toBe(40);
  });
});

describe("httpStatusFor", () => {
  it("gives REST statuses", () => {
    expect(httpStatusFor(Code.InvalidArgument)).toBe(400);
    expect(httpStatusFor(Code.NotFound)).toBe(404);
    expect(httpStatusFor(Code.AlreadyExists)).toBe(409);
    expect(httpStatusFor(Code.FailedPrecondition)).toBe(409);
    expect(httpStatusFor(Code.Unavailable)).toBe(503);
    expect(httpStatusFor(Code.Internal)).toBe(500);
    expect(httpStatusFor(Code.Unknown)).toBe(500);
  });
  it("names codes in snake_case", () => {
    expect(codeName(Code.NotFound)).toBe("not_found");
    expect(codeName(Code.FailedPrecondition)).toBe("failed_precondition");
    expect(codeName(Code.Internal)).toBe("internal");
  });
});

describe("withFieldPrefix", () => {
  it("puts a batch entry in front of an INVALID_ARGUMENT's field and message, and leaves other errors alone", () => {
    expect(withFieldPrefix("receipts[2].", () => 7)).toBe(7);
    let caught: unknown;
    try {
      withFieldPrefix("receipts[2].", () => {
        throw invalidArgument("loras[0].weight", "must be finite");
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect((caught as DomainError).field).toBe("receipts[2].loras[0].weight");
    expect((caught as DomainError).message).toBe("receipts[2].loras[0].weight: must be finite");
    const other = notFound("receipt", "r-1");
    expect(() =>
      withFieldPrefix("receipts[2].", () => {
        throw other;
      }),
    ).toThrow(other);
  });
});
