/**
 * Tokens on outbound calls: the service's own (`SERVICE_TOKEN_FILE`, re-read when Kubernetes rotates it) or the
 * caller's, forwarded when the service acts for that caller.
 */
import { Code, ConnectError, createContextKey, createContextValues, type CallOptions, type Interceptor } from "@connectrpc/connect";
import { ConfigError } from "../config/index.js";
import type { Caller } from "./access-decision.js";
import { bearerHeader, MAX_TOKEN_BYTES, type Principal } from "./principal.js";
import { watchFile } from "./watched-file.js";

/** Something that gives the token to present now. */
export interface TokenSource {
  /** The current token (re-read from its file when that changed). */
  token(): Promise<string>;
}

/** How a token file is watched. */
export interface TokenFileOptions {
  /** How often the file is compared with what was read, in ms (default 1000). */
  checkIntervalMs?: number;
  /** A changed file that cannot be used (empty, unreadable): reported here; the previous token stays in use. */
  onReloadError?: (err: unknown) => void;
}

function tokenText(text: string, path: string): string {
  const token = text.trim();
  if (token === "") throw new Error(`${path} is empty`);
  if (/\s/.test(token)) throw new Error(`${path} holds more than one token`);
  return token;
}

/**
 * Reads the token in `path` (`SERVICE_TOKEN_FILE`) now — a {@link ConfigError} naming the variable when it is missing
 * or empty — and again whenever the file changes (Kubernetes rewrites projected service-account tokens before
 * they expire).
 */
export async function readServiceTokenFile(path: string, opts: TokenFileOptions = {}): Promise<TokenSource> {
  try {
    const file = await watchFile(path, (text) => tokenText(text, path), { ...opts, maxBytes: MAX_TOKEN_BYTES + 2 });
    return { token: () => file.current() };
  } catch (err) {
    throw new ConfigError("SERVICE_TOKEN_FILE", `cannot use ${path}: ${(err as Error).message}`);
  }
}

/** A token that never changes (tests, a token handed over on the command line). */
export function staticTokenSource(token: string): TokenSource {
  return { token: async () => token };
}

/** Context key of the token forwarded on one outbound call; set it with {@link actingFor}. */
export const forwardedTokenKey = createContextKey<string | undefined>(undefined, { description: "caller token to forward" });

/**
 * Call options that make {@link createOutboundAuthInterceptor} present the caller's own token instead of the
 * service's: `client.getVersion(req, actingFor(callerOf(ctx)))`. Merges into `options` when given.
 */
export function actingFor(who: Caller | Principal, options: CallOptions = {}): CallOptions {
  const principal = "principal" in who ? who.principal : who;
  const values = options.contextValues ?? createContextValues();
  values.set(forwardedTokenKey, principal.token);
  return { ...options, contextValues: values };
}

/**
 * A client interceptor (for `createGrpcTransport` / `createConnectTransport`) that sets `authorization: Bearer …`:
 * the caller's token when the call was made {@link actingFor} a caller, else the service's own from `serviceToken`.
 * A header set explicitly on the call is left alone. With neither, the call fails here with UNAUTHENTICATED rather than
 * reaching the server anonymous.
 */
export function createOutboundAuthInterceptor(opts: { serviceToken?: TokenSource } = {}): Interceptor {
  return (next) => async (req) => {
    if (!req.header.has("authorization")) {
      const token = req.contextValues.get(forwardedTokenKey) ?? (await opts.serviceToken?.token());
      if (token === undefined) {
        throw new ConnectError("no token to present: no caller to act for and no SERVICE_TOKEN_FILE", Code.Unauthenticated);
      }
      req.header.set("authorization", bearerHeader(token));
    }
    return next(req);
  };
}
