/** The one listening socket: each connection is routed to HTTP/2 or HTTP/1.1 by its first bytes. */
import * as net from "node:net";

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Where a connection goes once its protocol is known. */
export interface ConnectionRoutes {
  /** A connection that began with the HTTP/2 preface (h2c with prior knowledge: gRPC, Connect over h2). */
  http2(socket: net.Socket): void;
  /** Any other connection. */
  http1(socket: net.Socket): void;
}

/** The listener and the connections it holds. */
export interface ConnectionSniffer {
  readonly server: net.Server;
  /** Every open connection, routed or not. */
  readonly sockets: ReadonlySet<net.Socket>;
  /** Destroys the connections whose protocol is not known yet (draining). */
  destroyUnrouted(): void;
}

/**
 * Creates the TCP server that peeks at each connection's first bytes: the HTTP/2 preface (`PRI * HTTP/2.0…`) goes to
 * `routes.http2`, anything else to `routes.http1`. A connection must show its protocol within `deadlineMs` from
 * connecting — a hard deadline, not an idle timeout, so a preface sent one byte at a time cannot hold it open.
 */
export function createConnectionSniffer(routes: ConnectionRoutes, deadlineMs: number): ConnectionSniffer {
  const sockets = new Set<net.Socket>();
  const unrouted = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    unrouted.add(socket);
    const deadline = setTimeout(() => socket.destroy(), deadlineMs);
    socket.once("close", () => {
      clearTimeout(deadline);
      sockets.delete(socket);
      unrouted.delete(socket);
    });
    // A reset before the protocol is known is not worth more than this; afterwards the http servers handle errors.
    socket.on("error", () => undefined);
    let seen: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const h2Preface = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (h2Preface && seen.length < H2_PREFACE.length) return; // a prefix of the preface so far: wait for more
      socket.off("data", onData);
      socket.pause();
      clearTimeout(deadline);
      unrouted.delete(socket);
      socket.unshift(seen);
      if (h2Preface) {
        routes.http2(socket); // the http2 session reads the unshifted bytes itself; resuming here breaks it
      } else {
        routes.http1(socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
  });
  return {
    server,
    sockets,
    destroyUnrouted() {
      for (const s of unrouted) s.destroy();
    },
  };
}
