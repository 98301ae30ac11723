/**
 * Who the CLI calls as: the token in the file of `--token-file`, else `PROVENANCE_TOKEN`, else (local mode) one minted
 * from npm start's local issuer in the data directory. Found on the first call that needs it, so commands that call
 * nothing need no token.
 */
import { join } from "node:path";
import { openLocalIssuer, readServiceTokenFile, type LocalIssuer, type TokenSource } from "@provenance/shared/auth";
import { dataDirectory } from "./data-dir.js";
import { CliError, ExitCode, usageError } from "./exit-codes.js";

/** The environment variable holding a token. */
export const TOKEN_ENV = "PROVENANCE_TOKEN";

/** What to say when there is no token at all; `issuerDir` is where the local issuer was looked for. */
export function notSignedIn(issuerDir: string): string {
  return `not signed in: no token (set PROVENANCE_TOKEN or pass --token-file FILE with a token from your issuer; npm start's local issuer would sign you in, but there is none in ${issuerDir})`;
}

/** The local issuer in `env`'s data directory, or undefined when npm start has made none there. */
export async function localIssuerOf(env: Readonly<Record<string, string | undefined>>): Promise<LocalIssuer | undefined> {
  const dir = join(dataDirectory(env), "auth");
  try {
    return await openLocalIssuer(dir);
  } catch (err) {
    if (/no local issuer/.test((err as Error).message)) return undefined;
    throw new CliError(ExitCode.failure, `the local issuer in ${dir} cannot be used: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** The token source of a CLI run; `tokenFile` is the `--token-file` value. */
export function cliTokenSource(tokenFile: string | undefined, env: Readonly<Record<string, string | undefined>>): TokenSource {
  let found: Promise<TokenSource> | undefined;
  const find = async (): Promise<TokenSource> => {
    if (tokenFile !== undefined) {
      try {
        return await readServiceTokenFile(tokenFile);
      } catch (err) {
        throw usageError(`--token-file ${(err as Error).message.replace(/^SERVICE_TOKEN_FILE: /, "")}`);
      }
    }
    const fromEnv = env[TOKEN_ENV]?.trim();
    if (fromEnv) {
      if (/\s/.test(fromEnv)) throw usageError(`${TOKEN_ENV} must hold one token, without spaces`);
      return { token: async () => fromEnv };
    }
    const issuer = await localIssuerOf(env);
    if (issuer) {
      const token = await issuer.mintToken();
      return { token: async () => token };
    }
    throw new CliError(ExitCode.notSignedIn, notSignedIn(join(dataDirectory(env), "auth")));
  };
  return {
    async token() {
      found ??= find();
      return (await found).token();
    },
  };
}
