/** The repository's own copy of the byte-exact specs and their vectors (docs/spec/), for tests in any workspace. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest folder above this file whose package.json declares workspaces. */
export function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && "workspaces" in (JSON.parse(readFileSync(manifest, "utf8")) as object)) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("the repository root (a package.json with workspaces) was not found");
    dir = parent;
  }
}

/** The path of a file in docs/spec/, e.g. `specPath("inputs-hash-vectors.json")`. */
export function specPath(name: string): string {
  return join(repositoryRoot(), "docs", "spec", name);
}

/** A JSON file of docs/spec/, parsed. */
export function readSpecJson<T>(name: string): T {
  return JSON.parse(readFileSync(specPath(name), "utf8")) as T;
}
