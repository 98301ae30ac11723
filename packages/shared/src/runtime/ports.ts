/** Finding and checking local TCP ports, for the launcher, the benchmark and tests. */
import { readFileSync } from "node:fs";
import net from "node:net";

/** Whether `port` can be listened on at `host` right now. */
export function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** The first port the kernel hands out to outgoing connections (and to listen(0)); 32768 when it cannot be read. */
export function ephemeralPortsStart(range = "/proc/sys/net/ipv4/ip_local_port_range"): number {
  try {
    const first = Number(readFileSync(range, "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 11_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A free port: the first from `preferred` on (up to 50 tried), or with `preferred` 0 a random one below the ephemeral
 * range that none of `taken` holds. Not listen(0): the port the kernel picks for it comes from the range it also gives
 * outgoing connections, so between choosing it and binding it, a connection opened meantime (a service's to
 * PostgreSQL or NATS) can take it as its local port and the bind fails with EADDRINUSE (seen in a benchmark run).
 * Ports below the range are never given to connections.
 */
export async function freePort(preferred = 0, host = "127.0.0.1", taken: ReadonlySet<number> = new Set()): Promise<number> {
  if (preferred !== 0) {
    for (let p = preferred; p < preferred + 50; p++) if (!taken.has(p) && (await portFree(p, host))) return p;
    throw new Error(`no free port from ${preferred} to ${preferred + 49}`);
  }
  const end = ephemeralPortsStart();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (end - 10_000));
    if (!taken.has(port) && (await portFree(port, host))) return port;
  }
  throw new Error(`no free port on ${host} between 10000 and ${end}`);
}
