/** connectNats never writes the password of NATS_URL into a log line or an error. */
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { connectNats } from "../src/events/nats-connection.js";
import { testNatsUrl } from "../src/testing/index.js";

function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: "trace" }, sink), lines };
}

function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString().replace(/\/$/, "");
}

describe("connectNats", () => {
  it("logs the address with the password redacted", async () => {
    const { logger, lines } = capturingLogger();
    // The test server has no authorization configured, so it accepts the credentials without checking them.
    const nc = await connectNats(withCredentials(testNatsUrl(), "receipts", "s3cret-pw"), "redaction-test", logger);
    await nc.close();
    await new Promise((r) => setTimeout(r, 20));
    const text = lines.join("");
    expect(text).toContain("connected to NATS at nats://receipts:***@");
    expect(text).not.toContain("s3cret-pw");
  });

  it("names the address without the password when it cannot connect", async () => {
    const { logger, lines } = capturingLogger();
    const err = await connectNats("nats://receipts:s3cret-pw@127.0.0.1:1", "redaction-test", logger).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^NATS at nats:\/\/receipts:\*\*\*@127\.0\.0\.1:1 is unreachable/);
    expect(err?.message).not.toContain("s3cret-pw");
    expect(lines.join("")).not.toContain("s3cret-pw");
  });
});
