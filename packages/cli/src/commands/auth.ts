/** `provenance auth token`: a token from npm start's local issuer, for curl, buf curl and scripts. */
import { stringValue, stringValues } from "../args.js";
import type { Command } from "../command.js";
import { localIssuerOf } from "../credentials.js";
import { dataDirectory } from "../data-dir.js";
import { CliError, ExitCode, usageError } from "../exit-codes.js";

/** How long a printed token is valid unless `--ttl` says otherwise. */
export const DEFAULT_TOKEN_TTL = "12h";

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses a lifetime like `90s`, `30m`, `12h` or `7d` (at most 30 days) into seconds. */
export function parseTtl(raw: string): number {
  const m = /^(\d{1,6})([smhd])$/.exec(raw.trim());
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 30 * 86400) {
    throw usageError(`--ttl must be a lifetime like 90s, 30m, 12h or 7d (at most 30d), got "${raw}"`);
  }
  return seconds;
}

/** `auth token [--subject S] [--group G]… [--ttl 12h]`. */
export const authToken: Command = {
  path: ["auth", "token"],
  positionals: [],
  summary: "print a token from npm start's local issuer (default: the local user, admin on every project; valid 12h)",
  options: {
    subject: { type: "string", value: "S", description: "the token's sub (default: the local user); grant it in .data/auth/policy.yaml" },
    group: { type: "string", value: "G", multiple: true, description: "a group the token names (repeat for more)" },
    ttl: { type: "string", value: "DURATION", description: `how long it is valid: 90s, 30m, 12h, 7d (default ${DEFAULT_TOKEN_TTL})` },
  },
  async run(ctx, args) {
    const ttlSeconds = parseTtl(stringValue(args, "ttl") ?? DEFAULT_TOKEN_TTL);
    const subject = stringValue(args, "subject");
    const groups = stringValues(args, "group");
    const issuer = await localIssuerOf(ctx.io.env);
    if (!issuer) {
      throw new CliError(
        ExitCode.notSignedIn,
        `there is no local issuer in ${dataDirectory(ctx.io.env)}/auth: it is made by npm start when AUTH_JWKS is unset; with your own issuer, get a token from it (set PROVENANCE_DATA_DIR if npm start uses another data directory)`,
      );
    }
    const token = await issuer.mintToken({ ...(subject ? { subject } : {}), ...(groups.length > 0 ? { groups } : {}), ttlSeconds });
    ctx.io.stdout.write(ctx.json ? `${JSON.stringify({ token, subject: subject ?? issuer.subject, groups, expiresInSeconds: ttlSeconds })}\n` : `${token}\n`);
  },
};
