/** The HTTP/1.1 side of the port: Node's http.Server with the header, request and keep-alive bounds, and its drain. */
import * as http from "node:http";
import type * as net from "node:net";
import type { ServerLimits } from "../config/index.js";

/** The HTTP/1.1 server and what draining needs of it. */
export interface Http1Side {
  /** Takes over a connection routed to HTTP/1.1. */
  accept(socket: net.Socket): void;
  /** Destroys every connection with no request in flight. */
  closeIdle(): void;
  /** Stops the timeout checks (after the drain). */
  stop(): void;
}

/** A Connect error answer written straight to a socket, for a request Node's parser refused before it became one. */
function rawErrorAnswer(status: number, reason: string, code: string, message: string): string {
  const body = JSON.stringify({ code, message });
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * Answers what Node's HTTP/1.1 parser refuses before any request exists — a request line and headers past
 * `http.maxHeaderSize` (a Connect GET whose message is too long for a URL), a request sent too slowly, bytes that are
 * not HTTP — with the status Node would send and a Connect error body saying why, instead of Node's bare status
 * (which clients read as UNKNOWN); then closes the connection.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: net.Socket, limits: ServerLimits): void {
  // An answer already under way on this connection cannot be followed by another.
  const inFlight = (socket as net.Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent && err.code !== "ECONNRESET") {
    let answer: string;
    if (err.code === "HPE_HEADER_OVERFLOW") {
      answer = rawErrorAnswer(431, "Request Header Fields Too Large", "resource_exhausted", `the request line and headers are larger than the ${http.maxHeaderSize} bytes this server reads; send a large request in a POST body`);
    } else if (err.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW") {
      answer = rawErrorAnswer(413, "Payload Too Large", "resource_exhausted", "the body's chunk extensions are too large");
    } else if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      answer = rawErrorAnswer(408, "Request Timeout", "deadline_exceeded", `the request was not sent in time (HEADERS_TIMEOUT_MS ${Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)} ms for its headers, REQUEST_TIMEOUT_MS ${limits.requestTimeoutMs} ms for all of it)`);
    } else {
      answer = rawErrorAnswer(400, "Bad Request", "invalid_argument", `the bytes sent are not an HTTP/1.1 request (${err.code ?? "parse error"})`);
    }
    // Destroyed once the answer is out (a client that never reads it cannot keep the socket past a second).
    socket.end(answer, () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
    return;
  }
  socket.destroy();
}

/**
 * Creates the HTTP/1.1 server. A connection has `headersTimeoutMs` to send a request's line and headers and
 * `requestTimeoutMs` to send the whole request (408 and closed otherwise, e.g. headers or a body trickled a byte at a
 * time); between requests it may stay `idleTimeoutMs` (keep-alive). None of these cuts a long response: a
 * server-streaming call over HTTP/1.1 runs as long as it runs once its request is in.
 * `isDraining()` true makes each finished response close its idle connection.
 */
export function createHttp1Server(
  onRequest: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  limits: ServerLimits,
  isDraining: () => boolean,
): Http1Side {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  // Requests in flight per connection, so draining can close the idle ones.
  const active = new Map<net.Socket, number>();
  const closeIdle = () => {
    for (const [socket, n] of active) if (n === 0) socket.destroy();
  };
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: limits.requestTimeoutMs,
      // Node closes an idle keep-alive socket a second after keepAliveTimeout (the advertised Keep-Alive timeout, so
      // that clients close first); subtract it so the connection goes at idleTimeoutMs.
      keepAliveTimeout: Math.max(limits.idleTimeoutMs - 1000, Math.ceil(limits.idleTimeoutMs / 2)),
      // How often Node looks for requests past their deadline; the bound holds to within this.
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      const socket = req.socket;
      active.set(socket, (active.get(socket) ?? 0) + 1);
      res.once("close", () => {
        if (active.has(socket)) active.set(socket, Math.max(0, active.get(socket)! - 1));
        if (isDraining()) closeIdle();
      });
      onRequest(req, res);
    },
  );
  server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => answerClientError(err, socket, limits));
  server.on("connection", (socket: net.Socket) => {
    active.set(socket, 0);
    socket.once("close", () => active.delete(socket));
  });
  // headersTimeout and requestTimeout are enforced by a check Node starts when the server listens; this one never
  // listens itself (the sniffer hands it its connections), so start it the way listening would.
  server.emit("listening");
  return {
    accept(socket) {
      server.emit("connection", socket);
    },
    closeIdle,
    stop() {
      server.close(() => undefined); // clears the check; the server never listened, so the callback gets an error
    },
  };
}
