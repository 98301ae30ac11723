import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { natsAuthOptions, redactUrl } from "../auth/nats-credentials.js";

/**
 * Connects to NATS with unlimited reconnects, logging each disconnect and reconnect; throws
 * "NATS at <url> is unreachable" when the first connection cannot be made. The address is logged and quoted without
 * its password (`nats://receipts:***@nats:4222`): credentials in NATS_URL never reach a log line or an error.
 */
export async function connectNats(url: string, name: string, logger?: Logger): Promise<NatsConnection> {
  const shown = redactUrl(url);
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...natsAuthOptions(url), // servers, plus this service's own credentials (NATS_CREDS or user:password@ in the URL)
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5_000,
      // Without this every request (each JetStream publish the relay makes) builds a RequestError and a TimeoutError
      // up front to keep the caller's stack: ~2% of the receipts service's CPU under load. Errors still say what failed.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new Error(`NATS at ${shown} is unreachable: ${(err as Error).message.replaceAll(url, shown)}`, { cause: err });
  }
  logger?.info({ url: shown, name }, `connected to NATS at ${shown}`);
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          logger?.warn({ server: s.server }, `disconnected from NATS at ${s.server}; reconnecting`);
          break;
        case "reconnect":
          logger?.info({ server: s.server }, `reconnected to NATS at ${s.server}`);
          break;
        case "error":
          logger?.error({ err: s.error }, "NATS connection error");
          break;
        case "staleConnection":
          logger?.warn("NATS connection is stale");
          break;
        default:
          break;
      }
    }
  })().catch(() => undefined);
  void nc.closed().then((err) => {
    if (err) logger?.error({ err }, "NATS connection closed with an error");
    else logger?.info({ url: shown }, "NATS connection closed");
  });
  return nc;
}
