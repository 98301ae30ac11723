/** npm start's data directory, where the CLI finds the local issuer and the local C2PA signer. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the nearest package.json above this file with workspaces), or undefined when installed elsewhere. */
export function repositoryRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && "workspaces" in (JSON.parse(readFileSync(manifest, "utf8")) as object)) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** `$PROVENANCE_DATA_DIR`, else `<repository>/.data` (npm start's), as an absolute path. */
export function dataDirectory(env: Readonly<Record<string, string | undefined>>): string {
  return resolve(env.PROVENANCE_DATA_DIR?.trim() || join(repositoryRoot() ?? process.cwd(), ".data"));
}
