import { execFile } from "node:child_process";
import { existsSync, readFileSync, realpathSync, statSync, utimesSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** The workspace root: the nearest folder above this package whose package.json lists workspaces. */
function repositoryRoot(): string {
  for (let dir = fileURLToPath(new URL("..", import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { workspaces?: unknown }).workspaces) return dir;
  }
  throw new Error("no workspace root above apps/system");
}

const root = repositoryRoot();
/** What `npx provenance` runs from the repository root: the bin npm linked at install. */
const bin = join(root, "node_modules", ".bin", "provenance");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], viaNode = false): Promise<Run> {
  return new Promise((resolve) => {
    const [cmd, argv] = viaNode ? [process.execPath, [file, ...args]] : [file, args];
    execFile(cmd, argv, { cwd: root, encoding: "utf8", timeout: 170_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: unknown }).code as number) : 0, stdout, stderr }),
    );
  });
}

describe("the provenance bin", () => {
  it("is linked by npm install to the committed shim, so it exists before any build", () => {
    expect(existsSync(bin)).toBe(true);
    expect(realpathSync(bin).endsWith(join("packages", "cli", "bin", "provenance.mjs"))).toBe(true);
  });

  it("runs the built CLI with the same arguments, output and exit code", async () => {
    const entry = join(dirname(dirname(realpathSync(bin))), "dist", "main.js");
    await run(bin, ["--version"]); // builds the CLI if this checkout has not yet
    for (const args of [["--help"], ["no-such-command"]]) {
      const direct = await run(entry, args, true);
      expect(await run(bin, args)).toEqual(direct);
    }
    const help = await run(bin, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("provenance");
  });

  it("builds the CLI first, in one line on stderr, when its dist/ is older than src/", async () => {
    const cliDir = dirname(dirname(realpathSync(bin)));
    const entry = join(cliDir, "dist", "main.js");
    utimesSync(entry, new Date(0), new Date(0));
    const result = await run(bin, ["--help"]);
    expect(result.stderr).toBe("provenance: building the CLI first (its dist/ is missing or older than src/)…\n");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("provenance");
    expect(statSync(entry).mtimeMs).toBeGreaterThan(0);
    // Built now: the next run goes straight to the CLI.
    expect((await run(bin, ["--help"])).stderr).toBe("");
  });
});
