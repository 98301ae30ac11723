/**
 * What a client is told when connect itself refuses its request: the decode failures connect-node reports as
 * INTERNAL (malformed protobuf, a compressed message without a compression, a body that does not inflate) are the
 * client's fault and become INVALID_ARGUMENT; read limits name `MAX_REQUEST_BYTES`; an unknown JSON field is named
 * as the field at fault. Every message is cut short, so an answer never echoes a huge value back.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** Longest error message sent to a client, in UTF-16 units; longer ones are cut and end in "…". */
export const MAX_ERROR_MESSAGE_CHARS = 1024;

/** Metadata key of the field at fault (the same as ERROR_FIELD_HEADER; repeated here to keep this module a leaf). */
const FIELD_HEADER = "x-error-field";

/** Cuts `message` to {@link MAX_ERROR_MESSAGE_CHARS}, never in the middle of a surrogate pair. */
export function truncateMessage(message: string, max = MAX_ERROR_MESSAGE_CHARS): string {
  if (message.length <= max) return message;
  let end = max - 1;
  const last = message.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${message.slice(0, end)}…`;
}

/**
 * `value` fit for an HTTP header and gRPC metadata (printable ASCII): other characters become `\uXXXX`, and it is cut
 * to `max` characters with "...".
 */
export function headerSafe(value: string, max = 200): string {
  const ascii = value.length > 4 * max ? value.slice(0, 4 * max) : value;
  const escaped = ascii.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return escaped.length <= max ? escaped : `${escaped.slice(0, max - 3)}...`;
}

/** What is known about the request a connect error is about, to word the answer. */
export interface RequestFacts {
  /** The request message's type, e.g. `provenance.v1.GetReceiptRequest`. */
  inputType?: string;
}

function fieldName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(key) ? key : JSON.stringify(truncateMessage(key, 40));
}

/** The INVALID_ARGUMENT or RESOURCE_EXHAUSTED an error raised while reading a request stands for, or undefined. */
function readFailure(err: ConnectError, facts: RequestFacts): ConnectError | undefined {
  const msg = err.rawMessage;
  const what = facts.inputType ? `a valid ${facts.inputType}` : "a valid request message";
  if (err.code === Code.Internal) {
    const binary = /^parse binary: ([\s\S]*)$/.exec(msg);
    if (binary) return new ConnectError(`malformed protobuf: the request is not ${what} in binary form (${binary[1]})`, Code.InvalidArgument);
    if (msg === "received compressed envelope, but do not know how to decompress") {
      return new ConnectError("a message is flagged as compressed, but the request names no compression (grpc-encoding / connect-content-encoding)", Code.InvalidArgument);
    }
    if (msg === "decompression failed") return new ConnectError("the request body does not decompress: it is not valid data for its content encoding", Code.InvalidArgument);
    return undefined;
  }
  if (err.code === Code.ResourceExhausted) {
    const limit = /readMaxBytes (\d+)/.exec(msg);
    if (!limit) return undefined;
    const size = /message size (\d+)/.exec(msg);
    const after = /after decompression/.test(msg) ? " once decompressed" : "";
    const got = size ? `is ${size[1]} bytes` : `is larger${after}`;
    return new ConnectError(`request too large: MAX_REQUEST_BYTES allows ${limit[1]} bytes per message, this one ${got}`, Code.ResourceExhausted);
  }
  if (err.code === Code.InvalidArgument) {
    const unknown = /^cannot decode message ([\w.]+) from JSON: key "([\s\S]*)" is unknown$/.exec(msg);
    if (unknown) {
      const field = fieldName(unknown[2]!);
      return new ConnectError(`${field}: is not a field of ${unknown[1]}; unknown fields are rejected, check the spelling`, Code.InvalidArgument, {
        [FIELD_HEADER]: headerSafe(field),
      });
    }
    const bad = /^cannot decode field ([\w.]+)\.(\w+) from JSON: ([\s\S]*)$/.exec(msg);
    if (bad) {
      return new ConnectError(`${bad[2]}: ${bad[3]} (field of ${bad[1]})`, Code.InvalidArgument, { [FIELD_HEADER]: headerSafe(bad[2]!) });
    }
  }
  return undefined;
}

/**
 * The error to answer a client with for `err`: a request-reading failure mapped as the module comment says, any
 * message cut to {@link MAX_ERROR_MESSAGE_CHARS}; metadata and details are kept. Returns `err` itself when nothing changes.
 */
export function clientFacingError(err: ConnectError, facts: RequestFacts = {}): ConnectError {
  const mapped = readFailure(err, facts);
  const base = mapped ?? err;
  const message = truncateMessage(base.rawMessage);
  if (!mapped && message === err.rawMessage) return err;
  const metadata = new Headers(err.metadata);
  mapped?.metadata.forEach((value, key) => metadata.set(key, headerSafe(value)));
  const answer = new ConnectError(message, base.code, metadata, undefined, err.cause ?? err);
  answer.details.push(...err.details);
  return answer;
}
