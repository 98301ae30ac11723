/**
 * `node apps/console/server/dist/main.js` (or `node apps/console/serve.mjs`): the console's server on its own, from
 * env — CONSOLE_PORT (default 7100), HOST, RECEIPTS_URL, STALENESS_URL, REGENERATION_URL, CONSOLE_PROXY=0, and the
 * sign-in: CONSOLE_OIDC_* for an OpenID Connect provider, else the local issuer of npm start's data dir
 * (PROVENANCE_DATA_DIR, default the repository's .data) when there is one; CONSOLE_RECEIPT_LOG_KEY, the receipt log's
 * verifier key the receipt panel's badge trusts (else the first one the receipts service serves); CONSOLE_C2PA_CERT and
 * CONSOLE_C2PA_KEY, the PEM certificate chain and key Content Credentials are signed with (else the local, untrusted
 * one under <data dir>/c2pa, as the CLI's), and CONSOLE_C2PA_MAX_BYTES, the largest file signed (default 256 MiB).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { c2paOptionsFromEnv, oidcSettingsFromEnv, serveConsole, type ConsoleSignIn } from "./serve.js";

const env = process.env;
const dataDir = () => env.PROVENANCE_DATA_DIR?.trim() || fileURLToPath(new URL("../../../../.data", import.meta.url));

async function localSignIn(): Promise<ConsoleSignIn | undefined> {
  const dir = join(dataDir(), "auth");
  if (!existsSync(join(dir, "signing-key.json"))) return undefined;
  // Loaded only here: an image that signs in through OpenID Connect does not carry the shared package.
  const { openLocalIssuer } = await import("@provenance/shared/auth");
  const issuer = await openLocalIssuer(dir);
  return { mode: "local", subject: issuer.subject, mintToken: () => issuer.mintToken() };
}

try {
  const signIn = oidcSettingsFromEnv(env) ?? (await localSignIn());
  const running = await serveConsole({
    port: Number(env.CONSOLE_PORT ?? 7100),
    host: env.HOST ?? "127.0.0.1",
    proxy: env.CONSOLE_PROXY !== "0",
    signIn,
    receiptLogKey: env.CONSOLE_RECEIPT_LOG_KEY?.trim() || undefined,
    c2pa: c2paOptionsFromEnv(env, dataDir()),
    servicesConfig: {
      receipts: env.RECEIPTS_URL ?? "http://127.0.0.1:7101",
      staleness: env.STALENESS_URL ?? "http://127.0.0.1:7102",
      regeneration: env.REGENERATION_URL ?? "http://127.0.0.1:7103",
    },
  });
  console.log(`console   ${running.url}${signIn ? ` (sign-in: ${signIn.mode})` : " (no sign-in: set CONSOLE_OIDC_ISSUER, CONSOLE_OIDC_CLIENT_ID, CONSOLE_OIDC_REDIRECT_URI)"}`);
  const stop = () => running.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (err) {
  console.error(`console: ${(err as Error).message.split("\n")[0]}`);
  process.exit(1);
}
