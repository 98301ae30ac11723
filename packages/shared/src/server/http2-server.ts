/** The HTTP/2 (h2c) side of the port: sessions with a first-request and an idle bound, streams with a request bound. */
import * as http2 from "node:http2";
import type * as net from "node:net";
import type { Logger } from "pino";
import type { ServerLimits } from "../config/index.js";

/** The HTTP/2 server and what draining needs of it. */
export interface Http2Side {
  /** Takes over a connection that began with the HTTP/2 preface. */
  accept(socket: net.Socket): void;
  /** Sends GOAWAY on every session: open streams may finish, no new ones start. */
  closeSessions(): void;
}

// How long a session that was told to go away may take to do so before it is destroyed.
const GOAWAY_GRACE_MS = 1000;

function expire(session: http2.ServerHttp2Session): void {
  if (session.destroyed) return;
  session.close();
  setTimeout(() => session.destroy(), GOAWAY_GRACE_MS).unref();
}

/**
 * After an answer sent before the request was read to its end (e.g. refused as too large), tells the client to stop
 * uploading with RST_STREAM NO_ERROR, as RFC 9113 §8.1 allows once the response is complete; otherwise the upload
 * stalls on flow control and the client never sees the end of the stream. The reset must wait until END_STREAM has
 * gone out (Node's close() with NO_ERROR waits for a 'finish' that has already happened).
 */
function stopUpload(stream: http2.ServerHttp2Stream, tries = 0): void {
  if (stream.closed || stream.destroyed || stream.state.remoteClose === 1) return;
  if (stream.state.localClose !== 1) {
    if (tries < 200) setTimeout(() => stopUpload(stream, tries + 1), 5).unref();
    return;
  }
  stream.close(http2.constants.NGHTTP2_NO_ERROR);
  // Request bytes that arrived before the reset and that nobody will read keep a closed stream from being destroyed,
  // and with it the session: its socket stayed open after the client had gone (every large upload refused leaked
  // one, and a drain waited out its grace for it). The reset is queued; the stream can go.
  setImmediate(() => stream.destroy());
}

/**
 * Creates the HTTP/2 server. A session must open its first stream within `headersTimeoutMs` and is closed after
 * `idleTimeoutMs` without an open stream (a preface and then silence holds nothing). Each stream must finish sending
 * its request (END_STREAM) within `requestTimeoutMs`, or it is reset with CANCEL; once the request is in, the response
 * may take as long as it takes, so WatchStaleness and Health.Watch streams that are quiet for minutes stay open.
 * New sessions are closed at once while `isDraining()`.
 */
export function createHttp2Server(
  onRequest: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  limits: ServerLimits,
  logger: Logger,
  isDraining: () => boolean,
): Http2Side {
  const server = http2.createServer({}, onRequest);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(idle);
      idle = setTimeout(() => expire(session), ms);
      idle.unref();
    };
    arm(limits.headersTimeoutMs);
    session.on("stream", (stream) => {
      open++;
      clearTimeout(idle);
      let sending: NodeJS.Timeout | undefined;
      if (!stream.endAfterHeaders) {
        sending = setTimeout(() => {
          if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
        }, limits.requestTimeoutMs);
        sending.unref();
        stream.once("end", () => clearTimeout(sending));
      }
      stream.once("finish", () => stopUpload(stream));
      stream.once("close", () => {
        clearTimeout(sending);
        open--;
        if (open === 0 && !session.destroyed) arm(limits.idleTimeoutMs);
      });
    });
    session.once("close", () => {
      clearTimeout(idle);
      sessions.delete(session);
    });
    session.on("error", (err) => logger.debug({ err }, "http2 session error"));
    if (isDraining()) session.close();
  });
  server.on("sessionError", (err) => logger.debug({ err }, "http2 session error"));
  return {
    accept(socket) {
      server.emit("connection", socket);
    },
    closeSessions() {
      for (const session of sessions) session.close();
    },
  };
}
