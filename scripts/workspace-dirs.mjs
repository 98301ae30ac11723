// The folders of every workspace package, from the root package.json's "workspaces" patterns.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Folders matching the workspace patterns (`dir` or `group/*`) that hold a package.json. */
export function workspaceDirs(root = ".") {
  const { workspaces = [] } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const dirs = [];
  for (const pattern of workspaces) {
    if (pattern.endsWith("/*")) {
      const group = join(root, pattern.slice(0, -2));
      if (existsSync(group)) dirs.push(...readdirSync(group).map((name) => join(group, name)));
    } else {
      dirs.push(join(root, pattern));
    }
  }
  return dirs.filter((d) => existsSync(join(d, "package.json")));
}
