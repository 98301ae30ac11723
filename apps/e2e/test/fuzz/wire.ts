/**
 * Raw HTTP/1.1 and HTTP/2 requests for the fuzz suite: exactly the bytes a test means to send (no client library
 * in between to fix them up), bodies that may be streamed so a 100 MB upload costs the test no 100 MB, and answers
 * read with a deadline so a response stream that stays open (WatchStaleness) is read until its first message.
 */
import * as http from "node:http";
import * as http2 from "node:http2";

/** A body: bytes, or chunks produced as they are sent. */
export type RawBody = Uint8Array | (() => AsyncIterable<Uint8Array>);

/** One request as it goes on the wire. */
export interface RawRequest {
  method: "GET" | "POST" | "PUT";
  /** Path and query, e.g. `/provenance.v1.ReceiptService/GetReceipt?encoding=json&message=…`. */
  path: string;
  headers: Record<string, string>;
  body?: RawBody;
  http: "1.1" | "2";
}

/** What came back. `cut` says the answer was still open when reading stopped (a response stream). */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  trailers: Record<string, string>;
  body: Buffer;
  cut: boolean;
}

/** How long an answer may take before the request counts as hung, and how long an open stream is read. */
export interface ReadTimes {
  /** Longest wait for the response headers (default 20 s). */
  headersMs?: number;
  /** Once headers are in, how long to read a body that has not ended before cutting it (default 15 s). */
  bodyMs?: number;
  /** Stop reading (cut) as soon as this many body bytes are in (default: read to the end or to `bodyMs`). */
  enoughBytes?: (body: Buffer) => boolean;
  /**
   * For a response stream that sends nothing until it has something to say (WatchStaleness sends its headers with
   * its first change): after this long without headers, the answer is "open" (status 0, cut) instead of none.
   */
  openAfterMs?: number;
}

/** The answer of a response stream still open, with nothing sent yet (see {@link ReadTimes.openAfterMs}). */
function openStream(): RawResponse {
  return { status: 0, headers: {}, trailers: {}, body: Buffer.alloc(0), cut: true };
}

const DEFAULT_HEADERS_MS = 20_000;
const DEFAULT_BODY_MS = 15_000;

function flat(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
  return out;
}

async function writeBody(sink: NodeJS.WritableStream & { destroyed?: boolean }, body: RawBody | undefined, stopped: () => boolean): Promise<void> {
  if (body === undefined) return void sink.end();
  if (body instanceof Uint8Array) return void sink.end(body);
  for await (const chunk of body()) {
    if (stopped() || sink.destroyed) return;
    if (!sink.write(chunk)) await new Promise<void>((resolve) => {
      const done = () => {
        sink.removeListener("drain", done);
        sink.removeListener("close", done);
        resolve();
      };
      sink.once("drain", done);
      sink.once("close", done);
    });
  }
  if (!stopped() && !sink.destroyed) sink.end();
}

/** Reasons a request got no answer at all: the client's deadline, or the connection went before any response. */
export class NoAnswer extends Error {
  constructor(what: string) {
    super(what);
    this.name = "NoAnswer";
  }
}

const h1Agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function sendH1(base: URL, req: RawRequest, times: ReadTimes): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let settled = false;
    const finish = (res: RawResponse | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(headTimer);
      if (res instanceof Error) reject(res);
      else resolve(res);
    };
    // Node frames a body of its own accord only for some methods (not GET): say how this one is framed.
    const framing: Record<string, string> =
      req.body === undefined ? {} : req.body instanceof Uint8Array ? { "content-length": String(req.body.byteLength) } : { "transfer-encoding": "chunked" };
    const r = http.request({
      host: base.hostname,
      port: base.port,
      method: req.method,
      path: req.path,
      headers: { ...framing, ...req.headers },
      agent: h1Agent,
    });
    const headTimer = setTimeout(() => {
      finish(times.openAfterMs !== undefined ? openStream() : new NoAnswer(`no response headers within ${times.headersMs ?? DEFAULT_HEADERS_MS} ms`));
      r.destroy();
    }, times.openAfterMs ?? times.headersMs ?? DEFAULT_HEADERS_MS);
    r.on("error", (err) => {
      // Once an answer is in, the server closing on an upload it refused is expected; before it, there is no answer.
      if (!answered) finish(new NoAnswer(`connection failed before any answer: ${(err as Error).message}`));
    });
    r.on("response", (res) => {
      answered = true;
      clearTimeout(headTimer);
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (cut: boolean) => {
        clearTimeout(bodyTimer);
        const body = Buffer.concat(chunks);
        finish({ status: res.statusCode ?? 0, headers: flat(res.headers), trailers: flat(res.trailers ?? {}), body, cut });
        if (cut) r.destroy();
      };
      const bodyTimer = setTimeout(() => done(true), times.bodyMs ?? DEFAULT_BODY_MS);
      res.on("data", (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        if (times.enoughBytes?.(Buffer.concat(chunks, size))) done(true);
      });
      res.on("end", () => done(false));
      res.on("error", () => done(true));
      res.on("aborted", () => done(true));
    });
    writeBody(r, req.body, () => answered || settled).catch(() => undefined);
  });
}

const sessions = new Map<string, http2.ClientHttp2Session>();

function sessionFor(origin: string): http2.ClientHttp2Session {
  const known = sessions.get(origin);
  if (known && !known.closed && !known.destroyed) return known;
  // Node's client counts a large upload it has queued against its own session memory (10 MB by default) and
  // resets the stream itself; allow more, so what is seen is the server's answer.
  const session = http2.connect(origin, { maxSessionMemory: 1024 });
  session.on("error", () => undefined);
  session.on("close", () => {
    if (sessions.get(origin) === session) sessions.delete(origin);
  });
  session.unref();
  sessions.set(origin, session);
  return session;
}

function sendH2(base: URL, req: RawRequest, times: ReadTimes): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let session: http2.ClientHttp2Session;
    let stream: http2.ClientHttp2Stream;
    try {
      session = sessionFor(base.origin);
      // Node ends a GET's stream with its headers unless told there is a body.
      stream = session.request({ ":method": req.method, ":path": req.path, ...req.headers }, { endStream: req.body === undefined });
    } catch (err) {
      sessions.delete(base.origin);
      reject(new NoAnswer(`could not open an HTTP/2 stream: ${(err as Error).message}`));
      return;
    }
    let head: Record<string, string> | undefined;
    let trailers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (res: RawResponse | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (res instanceof Error) reject(res);
      else resolve(res);
    };
    const done = (cut: boolean) => {
      if (head === undefined) return finish(new NoAnswer(`the stream closed without an answer (RST_STREAM code ${stream.rstCode})`));
      finish({ status: Number(head[":status"]), headers: head, trailers, body: Buffer.concat(chunks), cut });
      if (cut && !stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    let timer = setTimeout(() => {
      finish(times.openAfterMs !== undefined ? openStream() : new NoAnswer(`no response headers within ${times.headersMs ?? DEFAULT_HEADERS_MS} ms`));
      stream.close(http2.constants.NGHTTP2_CANCEL);
    }, times.openAfterMs ?? times.headersMs ?? DEFAULT_HEADERS_MS);
    stream.on("response", (h) => {
      head = flat(h);
      clearTimeout(timer);
      timer = setTimeout(() => done(true), times.bodyMs ?? DEFAULT_BODY_MS);
    });
    stream.on("trailers", (t) => (trailers = flat(t)));
    stream.on("data", (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (times.enoughBytes?.(Buffer.concat(chunks, size))) done(true);
    });
    // An upload the server answered early is reset with NO_ERROR: the answer is complete.
    stream.on("error", () => undefined);
    stream.on("close", () => done(false));
    writeBody(stream, req.body, () => head !== undefined || settled).catch(() => undefined);
  });
}

/** Sends `req` to the server at `baseUrl` and reads the answer (see {@link ReadTimes}); rejects with {@link NoAnswer}. */
export function send(baseUrl: string, req: RawRequest, times: ReadTimes = {}): Promise<RawResponse> {
  const base = new URL(baseUrl);
  return req.http === "2" ? sendH2(base, req, times) : sendH1(base, req, times);
}

/** Destroys the pooled connections (after a test file), so a server's drain does not wait for them. */
export function closeConnections(): void {
  for (const s of sessions.values()) s.destroy();
  sessions.clear();
  h1Agent.destroy();
}

/** A gRPC / Connect envelope: flags, 4-byte big-endian length, payload. */
export function envelope(payload: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + payload.byteLength);
  out[0] = flags;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, 5);
  return out;
}

/** An enveloped body split into frames; `rest` is what does not form a whole frame. */
export function frames(body: Uint8Array): { frames: { flags: number; data: Buffer }[]; rest: number } {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const out: { flags: number; data: Buffer }[] = [];
  let i = 0;
  while (i + 5 <= buf.length) {
    const len = buf.readUInt32BE(i + 1);
    if (i + 5 + len > buf.length) break;
    out.push({ flags: buf[i]!, data: buf.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return { frames: out, rest: buf.length - i };
}
