#!/usr/bin/env node
/**
 * `provenance` as npm links it, so `npx provenance` works right after `npm install`: when the CLI's build (dist/) is
 * missing or older than its source, it is built first (the CLI and what it depends on, by turbo from the repository
 * root, quietly); then dist/main.js runs with the same arguments, stdio and exit code.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cliDir = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(cliDir, "dist", "main.js");

/** The latest modification time of any file under `dir` (0 when there is none). */
function newest(dir) {
  let latest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    latest = Math.max(latest, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function needsBuild() {
  if (!existsSync(entry)) return true;
  return newest(join(cliDir, "src")) > statSync(entry).mtimeMs;
}

/** The workspace root: the nearest folder above the CLI whose package.json lists workspaces. */
function repositoryRoot() {
  for (let dir = dirname(cliDir); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file) && JSON.parse(readFileSync(file, "utf8")).workspaces) return dir;
  }
  return undefined;
}

function fail(message) {
  process.stderr.write(`provenance: ${message}\n`);
  process.exit(1);
}

if (needsBuild()) {
  const root = repositoryRoot();
  if (!root) fail(`${entry} is missing and there is no workspace to build it in: build the CLI first`);
  let turbo;
  try {
    turbo = createRequire(join(root, "package.json")).resolve("turbo/bin/turbo");
  } catch {
    fail(`${entry} is missing or out of date and turbo is not installed: run npm install, then npm run build`);
  }
  process.stderr.write("provenance: building the CLI first (its dist/ is missing or older than src/)…\n");
  const build = spawnSync(process.execPath, [turbo, "run", "build", "--filter=@provenance/cli...", "--output-logs=errors-only"], {
    cwd: root,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (build.status !== 0 || !existsSync(entry)) {
    process.stderr.write(`${build.stdout ?? ""}${build.stderr ?? ""}`);
    fail(`building the CLI failed (output above): fix that, or run npm run build to see more`);
  }
}

const child = spawn(process.execPath, [entry, ...process.argv.slice(2)], { stdio: "inherit" });
// A terminal's Ctrl-C reaches the CLI itself (same process group), which decides what it means; other signals are
// passed on. Either way this process waits for the CLI and ends as it ended.
process.on("SIGINT", () => undefined);
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("error", (err) => fail(`could not run ${entry}: ${err.message}`));
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
