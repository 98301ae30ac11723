/** The authenticated caller's identity, and the UNAUTHENTICATED answers for tokens that do not prove one. */
import type { IncomingHttpHeaders } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";

/** Who is calling, from a verified token. */
export interface Principal {
  /** The token's `sub`: recorded as `recorded_by`, `uploaded_by`, `requested_by`. */
  readonly subject: string;
  /** The token's `groups` (empty when the token has none). */
  readonly groups: readonly string[];
  /** The token's `iss`. */
  readonly issuer: string;
  /** When the token expires (`exp`). */
  readonly expiresAt: Date;
  /**
   * The raw bearer token, kept to forward it when the service acts for this caller. Not enumerable, so logging or
   * serializing a principal never writes it out.
   */
  readonly token: string;
}

/** Builds a {@link Principal} whose `token` is not enumerable. */
export function createPrincipal(fields: Omit<Principal, "token">, token: string): Principal {
  const principal = { subject: fields.subject, groups: Object.freeze([...fields.groups]), issuer: fields.issuer, expiresAt: fields.expiresAt };
  Object.defineProperty(principal, "token", { value: token, enumerable: false });
  return Object.freeze(principal) as Principal;
}

/** Why a request is not authenticated; each has one short message that reveals nothing about keys or policy. */
export type TokenFailure =
  | "missing"
  | "malformed"
  | "expired"
  | "not_yet_valid"
  | "wrong_audience"
  | "wrong_issuer"
  | "unknown_key"
  | "bad_signature"
  | "algorithm_not_allowed";

/** The message sent for each {@link TokenFailure}. */
export const TOKEN_FAILURE_MESSAGES: Readonly<Record<TokenFailure, string>> = {
  missing: "missing bearer token (authorization: Bearer <JWT>)",
  malformed: "malformed token",
  expired: "token expired",
  not_yet_valid: "token not yet valid",
  wrong_audience: "token has the wrong audience",
  wrong_issuer: "token has the wrong issuer",
  unknown_key: "token signed by an unknown key",
  bad_signature: "token signature is invalid",
  algorithm_not_allowed: "token algorithm not allowed (RS256, ES256 or EdDSA)",
};

/** Metadata key carrying the {@link TokenFailure} of an UNAUTHENTICATED answer, for clients and tests. */
export const AUTH_FAILURE_HEADER = "x-auth-failure";

/** The UNAUTHENTICATED error for `reason`; `detail` (a fixed, non-secret phrase) is appended when given. */
export function unauthenticated(reason: TokenFailure, detail?: string): ConnectError {
  const message = detail === undefined ? TOKEN_FAILURE_MESSAGES[reason] : `${TOKEN_FAILURE_MESSAGES[reason]}: ${detail}`;
  return new ConnectError(message, Code.Unauthenticated, { [AUTH_FAILURE_HEADER]: reason });
}

/** Request headers as Connect (`Headers`) or Node's HTTP server (`IncomingHttpHeaders`) hands them over. */
export type RequestHeaders = Headers | IncomingHttpHeaders | Readonly<Record<string, string | readonly string[] | undefined>>;

function headerOf(headers: RequestHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | readonly string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : value.join(", ");
  return value as string | undefined;
}

/** The longest token accepted; larger ones are malformed (a bound before any parsing). */
export const MAX_TOKEN_BYTES = 16 * 1024;

const BEARER = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i;

/** The JWT of an `authorization: Bearer <JWT>` header; throws UNAUTHENTICATED (missing or malformed) otherwise. */
export function bearerTokenOf(headers: RequestHeaders): string {
  const value = headerOf(headers, "authorization");
  if (value === undefined || value.trim() === "") throw unauthenticated("missing");
  if (value.length > MAX_TOKEN_BYTES + 16) throw unauthenticated("malformed", "too long");
  const match = BEARER.exec(value);
  if (!match) throw unauthenticated("malformed", "expected authorization: Bearer <JWT>");
  return match[1]!;
}

/** The value of an `authorization` header presenting `token`. */
export function bearerHeader(token: string): string {
  return `Bearer ${token}`;
}
