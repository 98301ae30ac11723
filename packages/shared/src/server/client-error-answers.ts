/**
 * Rewrites the error answers connect writes itself, before any interceptor runs, so that they read like every
 * other error (see `clientFacingError`): a unary request that does not decode is answered INVALID_ARGUMENT, not
 * INTERNAL, in all three protocols — Connect (an error JSON body), gRPC (trailers) and gRPC-Web (a trailer frame).
 * Answers without an error pass through untouched and unbuffered.
 */
import * as zlib from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { clientFacingError, headerSafe, type RequestFacts } from "../errors/index.js";

/** Metadata key of the field at fault (ERROR_FIELD_HEADER). */
const FIELD_HEADER = "x-error-field";

// An error answer is small unless it echoes the request; anything larger than this is not inflated to be read.
const MAX_ERROR_BODY_BYTES = 16 * 1024 * 1024;
const COMPRESSED_FLAG = 0b00000001;

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (body) for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function inflate(bytes: Uint8Array, encoding: string | null): Uint8Array | undefined {
  const options = { maxOutputLength: MAX_ERROR_BODY_BYTES };
  try {
    if (encoding === null || encoding === "" || encoding === "identity") return bytes;
    if (encoding === "gzip") return zlib.gunzipSync(bytes, options);
    if (encoding === "br") return zlib.brotliDecompressSync(bytes, options);
  } catch {
    return undefined;
  }
  return undefined;
}

/** A Connect unary error: the JSON body is read (it is small), mapped, and written again uncompressed. */
async function connectUnaryAnswer(res: UniversalServerResponse, facts: RequestFacts): Promise<UniversalServerResponse> {
  const raw = await readAll(res.body as AsyncIterable<Uint8Array> | undefined);
  const header = new Headers(res.header);
  const json = inflate(raw, header.get("content-encoding"));
  if (json === undefined) return { ...res, body: once(raw) };
  const original = errorFromJsonBytes(json, undefined, new ConnectError("", Code.Unknown));
  const answer = clientFacingError(original, facts);
  if (answer === original) return { ...res, body: once(raw) };
  const body = errorToJsonBytes(answer, {});
  header.delete("content-encoding");
  header.set("content-length", String(body.byteLength));
  answer.metadata.forEach((value, key) => header.set(key, value));
  return { ...res, status: codeToHttpStatus(answer.code), header, body: once(body) };
}

/** Maps the grpc-status / grpc-message pair in `trailer` in place; true when it changed. */
function mapTrailer(trailer: Headers, facts: RequestFacts): boolean {
  const status = trailer.get("grpc-status");
  if (status === null || status === "0") return false;
  let message = trailer.get("grpc-message") ?? "";
  try {
    message = decodeURIComponent(message);
  } catch {
    // not percent-encoded after all: use it as it is
  }
  const original = new ConnectError(message, Number(status) as Code);
  const answer = clientFacingError(original, facts);
  if (answer === original) return false;
  trailer.set("grpc-status", String(answer.code));
  trailer.set("grpc-message", encodeURIComponent(answer.rawMessage));
  answer.metadata.forEach((value, key) => trailer.set(key, value));
  return true;
}

/** gRPC: the status travels in HTTP/2 trailers, which are final once the body has ended. */
function grpcAnswer(res: UniversalServerResponse, facts: RequestFacts): UniversalServerResponse {
  if (!res.trailer) return res;
  const trailer = res.trailer instanceof Headers ? res.trailer : new Headers(res.trailer);
  mapTrailer(trailer, facts); // a trailers-only answer (the request failed before any output) is complete already
  const body = res.body as AsyncIterable<Uint8Array> | undefined;
  return {
    ...res,
    trailer,
    body: (async function* () {
      if (body) yield* body;
      mapTrailer(trailer, facts);
    })(),
  };
}

function rewriteTrailerFrame(flags: number, data: Uint8Array, encoding: string | null, facts: RequestFacts): Uint8Array {
  const plain = (flags & COMPRESSED_FLAG) === COMPRESSED_FLAG ? inflate(data, encoding) : data;
  const frame = (payload: Uint8Array, f: number) => {
    const out = Buffer.alloc(5 + payload.byteLength);
    out[0] = f;
    out.writeUInt32BE(payload.byteLength, 1);
    out.set(payload, 5);
    return out;
  };
  if (plain === undefined) return frame(data, flags);
  const trailer = trailerParse(plain);
  if (!mapTrailer(trailer, facts)) return frame(data, flags);
  return frame(trailerSerialize(trailer), trailerFlag);
}

/** gRPC-Web: the status is the body's last frame (flag 0x80); data frames pass through as they come. */
function grpcWebAnswer(res: UniversalServerResponse, facts: RequestFacts): UniversalServerResponse {
  const body = res.body as AsyncIterable<Uint8Array> | undefined;
  if (!body) return res;
  const encoding = new Headers(res.header).get("grpc-encoding");
  return {
    ...res,
    body: (async function* () {
      let pending: Uint8Array = new Uint8Array(0);
      let passing = 0; // bytes of a data frame still to pass through
      for await (const chunk of body) {
        const buf = pending.byteLength === 0 ? chunk : Buffer.concat([pending, chunk]);
        pending = new Uint8Array(0);
        const out: Uint8Array[] = [];
        let i = 0;
        while (i < buf.byteLength) {
          if (passing > 0) {
            const n = Math.min(passing, buf.byteLength - i);
            out.push(buf.subarray(i, i + n));
            i += n;
            passing -= n;
            continue;
          }
          if (buf.byteLength - i < 5) {
            pending = buf.slice(i);
            break;
          }
          const flags = buf[i]!;
          const length = Buffer.from(buf.buffer, buf.byteOffset + i + 1, 4).readUInt32BE(0);
          if ((flags & trailerFlag) !== trailerFlag) {
            out.push(buf.subarray(i, i + 5));
            i += 5;
            passing = length;
            continue;
          }
          if (buf.byteLength - i < 5 + length) {
            pending = buf.slice(i);
            break;
          }
          out.push(rewriteTrailerFrame(flags, buf.subarray(i + 5, i + 5 + length), encoding, facts));
          i += 5 + length;
        }
        for (const piece of out) yield piece;
      }
      if (pending.byteLength > 0) yield pending;
    })(),
  };
}

/** What connect's bare refusals need to be worded: the request as it came and what the RPC accepts. */
export interface RefusalFacts {
  /** `provenance.v1.ReceiptService/GetReceipt` */
  rpc: string;
  httpMethod: string;
  contentType: string | undefined;
  /** HTTP methods the RPC accepts (POST; GET too for NO_SIDE_EFFECTS). */
  allowedMethods: readonly string[];
  /** Whether the RPC streams (Connect then speaks application/connect+json|proto). */
  streaming: boolean;
}

function quotedHeader(value: string | undefined): string {
  if (value === undefined || value === "") return "none";
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

/**
 * connect answers a request it cannot place in any protocol with a bare status and no body: 415 for a content type
 * no protocol speaks, 405 for an HTTP method the RPC does not take. A client reads those as UNKNOWN, although the
 * request is at fault; this gives each the Connect error body that says so (INVALID_ARGUMENT naming `content-type`,
 * UNIMPLEMENTED with `Allow`), keeping the status the protocols prescribe. Other answers are returned as they are.
 */
export function explainBareRefusal(res: UniversalServerResponse, facts: RefusalFacts): UniversalServerResponse {
  if ((res.status !== 415 && res.status !== 405) || res.body !== undefined) return res;
  let err: ConnectError;
  const header = new Headers(res.header);
  if (res.status === 415) {
    const connect = facts.streaming ? "application/connect+json or application/connect+proto" : "application/json or application/proto";
    err = new ConnectError(
      `content-type: ${quotedHeader(facts.contentType)} is not a protocol ${facts.rpc} speaks; send ${connect} (Connect), application/grpc (gRPC) or application/grpc-web (gRPC-Web)`,
      Code.InvalidArgument,
      { [FIELD_HEADER]: "content-type" },
    );
  } else {
    err = new ConnectError(`${headerSafe(facts.httpMethod, 20)} is not allowed for ${facts.rpc}; use ${facts.allowedMethods.join(" or ")}`, Code.Unimplemented);
    header.set("allow", facts.allowedMethods.join(", "));
  }
  const body = errorToJsonBytes(err, {});
  header.set("content-type", "application/json");
  header.set("content-length", String(body.byteLength));
  err.metadata.forEach((value, key) => header.set(key, value));
  return { ...res, header, body: once(body) };
}

/**
 * The answer to send for `res`, an answer of the RPC whose request message is `facts.inputType`: error answers of
 * Connect unary, gRPC and gRPC-Web calls are passed through `clientFacingError`; everything else is returned as is.
 * Connect streaming calls need nothing here: their requests are decoded inside the interceptors, where
 * `errorInterceptor` maps the same failures.
 */
export async function answerClientErrors(res: UniversalServerResponse, facts: RequestFacts): Promise<UniversalServerResponse> {
  const type = new Headers(res.header).get("content-type") ?? "";
  if (type.startsWith("application/grpc-web")) return grpcWebAnswer(res, facts);
  if (type.startsWith("application/grpc")) return grpcAnswer(res, facts);
  if (res.status !== 200 && type.startsWith("application/json")) return connectUnaryAnswer(res, facts);
  return res;
}
