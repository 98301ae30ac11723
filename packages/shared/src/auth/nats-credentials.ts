/** Each service's own NATS credentials: a `NATS_CREDS` file, or a user and password (or token) in `NATS_URL`. */
import { readFileSync } from "node:fs";
import { credsAuthenticator, type ConnectionOptions } from "@nats-io/transport-node";
import { ConfigError } from "../config/index.js";

/** The connection options that carry the server and the credentials. */
export type NatsAuthOptions = Pick<ConnectionOptions, "servers" | "user" | "pass" | "token" | "authenticator">;

/**
 * The `servers` and credentials for `url`: a `user:password@` (or `token@`) part of the URL is taken out of the
 * server address and passed as `user`/`pass` (or `token`), percent-decoded; `NATS_CREDS` names a `.creds` file (user
 * JWT and NKey seed, for operator-mode servers), read now and again at every (re)connect so a rotated file is used.
 * Both at once is a {@link ConfigError}; neither connects without credentials, as before.
 */
export function natsAuthOptions(url: string, env: Readonly<Record<string, string | undefined>> = process.env): NatsAuthOptions {
  let servers = url;
  const out: NatsAuthOptions = {};
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined; // not ours to judge: the client reports a bad address
  }
  if (parsed && (parsed.username !== "" || parsed.password !== "")) {
    const user = decodeURIComponent(parsed.username);
    const pass = decodeURIComponent(parsed.password);
    if (pass === "") out.token = user;
    else Object.assign(out, { user, pass });
    parsed.username = "";
    parsed.password = "";
    servers = parsed.toString().replace(/\/$/, "");
  }
  const credsPath = env.NATS_CREDS?.trim() ?? "";
  if (credsPath !== "") {
    if (out.user !== undefined || out.token !== undefined) {
      throw new ConfigError("NATS_CREDS", "is set and NATS_URL carries credentials too; use one of them");
    }
    let last: Uint8Array;
    try {
      last = readFileSync(credsPath);
    } catch (err) {
      throw new ConfigError("NATS_CREDS", `cannot read ${credsPath}: ${(err as Error).message}`);
    }
    out.authenticator = credsAuthenticator(() => {
      try {
        last = readFileSync(credsPath);
      } catch {
        // Mid-rotation or briefly missing: the previous credentials are the best guess.
      }
      return last;
    });
  }
  return { servers, ...out };
}

/** `url` without its password (`nats://receipts:***@host:4222`), for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    else if (parsed.username !== "") parsed.username = "***";
    else return url;
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}
