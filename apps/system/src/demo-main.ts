/**
 * `npm run demo`: the demo story against the system `npm start` runs (or the URLs in RECEIPTS_URL, STALENESS_URL,
 * REGENERATION_URL), signed in as the local user of npm start's local issuer (PROVENANCE_DATA_DIR, default the
 * repository's .data), or as the holder of PROVENANCE_TOKEN when that is set.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { openLocalIssuer, staticTokenSource, type TokenSource } from "@provenance/shared/auth";
import { runDemo } from "./demo.js";

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)));

const urls = {
  receipts: process.env.RECEIPTS_URL || "http://127.0.0.1:7101",
  staleness: process.env.STALENESS_URL || "http://127.0.0.1:7102",
  regeneration: process.env.REGENERATION_URL || "http://127.0.0.1:7103",
};

async function signIn(): Promise<TokenSource> {
  const given = process.env.PROVENANCE_TOKEN?.trim();
  if (given) return staticTokenSource(given);
  const dir = join(process.env.PROVENANCE_DATA_DIR?.trim() || resolve(root, ".data"), "auth");
  try {
    const issuer = await openLocalIssuer(dir);
    return staticTokenSource(await issuer.mintToken());
  } catch {
    throw new Error(`not signed in: there is no local issuer in ${dir} (npm start makes one); set PROVENANCE_TOKEN to a token of your issuer instead`);
  }
}

try {
  await runDemo(urls, await signIn(), (line) => console.log(line));
} catch (err) {
  const ce = err instanceof ConnectError ? err : undefined;
  if (ce?.code === Code.Unauthenticated || ce?.code === Code.PermissionDenied) {
    console.error(`demo: ${ce.code === Code.Unauthenticated ? "not signed in" : "denied"} (${ce.rawMessage}); npm run demo signs in as npm start's local user, or set PROVENANCE_TOKEN`);
  } else if (ce?.code === Code.Unavailable) {
    console.error(`demo: the system is not reachable (${ce.rawMessage}); start it with \`npm start\` in another terminal`);
  } else {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
}
