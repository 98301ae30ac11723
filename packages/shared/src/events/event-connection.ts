/** What services hold to publish and consume events: a NATS connection, or the in-process bus. */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { IN_PROCESS_BUS_URL, InProcessBus, isInProcessBus } from "./in-process-bus.js";
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

/**
 * Whether events can flow now: the in-process bus while open; NATS when a ping comes back within
 * `timeoutMs` (a client that is reconnecting is not closed, but it is not ready either).
 */
export async function eventsReachable(events: EventConnection, timeoutMs = 1000): Promise<boolean> {
  if (events.isClosed()) return false;
  if (isInProcessBus(events)) return true;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      events.rtt().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
