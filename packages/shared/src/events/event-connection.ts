/** What services hold to publish and consume events: a NATS connection, or the in-process bus. */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { IN_PROCESS_BUS_URL, InProcessBus } from "./in-process-bus.js";
import { connectNats } from "./nats-connection.js";

/** A NATS connection (JetStream) or, for `npm start` without NATS, the in-process bus. */
export type EventConnection = NatsConnection | InProcessBus;

/** Whether `url` selects the in-process bus (`memory://…`). */
export function isInProcessBusUrl(url: string): boolean {
  return url.startsWith("memory://");
}

/** Connects to NATS at `url`, or returns this process's in-process bus for `memory://local`. */
export async function connectEvents(url: string, name: string, logger?: Logger): Promise<EventConnection> {
  if (isInProcessBusUrl(url)) {
    if (url !== IN_PROCESS_BUS_URL) throw new Error(`NATS_URL: the in-process bus is "${IN_PROCESS_BUS_URL}", got "${url}"`);
    return InProcessBus.shared;
  }
  return connectNats(url, name, logger);
}
