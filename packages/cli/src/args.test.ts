import { AssetKind } from "@provenance/shared";
import { describe, expect, it } from "vitest";
import { parseAssetKind } from "./args.js";
import { resolveUrls } from "./clients.js";
import { main } from "./main.js";

/** Runs the CLI in memory with no service reachable; argument errors never get as far as a call. */
async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    // A token is given so a call gets as far as the (unreachable) service.
    env: { RECEIPTS_URL: "http://127.0.0.1:1", STALENESS_URL: "http://127.0.0.1:1", REGENERATION_URL: "http://127.0.0.1:1", PROVENANCE_TOKEN: "a.b.c" },
  });
  return { code, stdout, stderr };
}

describe("asset kinds", () => {
  it("accepts kebab, upper and prefixed case", () => {
    expect(parseAssetKind("lora")).toBe(AssetKind.LORA);
    expect(parseAssetKind("LORA")).toBe(AssetKind.LORA);
    expect(parseAssetKind("source-image")).toBe(AssetKind.SOURCE_IMAGE);
    expect(parseAssetKind("SOURCE_IMAGE")).toBe(AssetKind.SOURCE_IMAGE);
    expect(parseAssetKind("ASSET_KIND_VARIANT_IMAGE")).toBe(AssetKind.VARIANT_IMAGE);
  });

  it("rejects anything else, listing the kinds", () => {
    expect(() => parseAssetKind("unspecified")).toThrow(
      'must be one of model, lora, workflow, source-image, variant-image, got "unspecified"',
    );
  });
});

describe("service URLs", () => {
  it("prefers the flag, then the environment, then the default", () => {
    expect(resolveUrls({ receipts: "http://a:1" }, { RECEIPTS_URL: "http://b:2", STALENESS_URL: "http://c:3/" })).toEqual({
      receipts: "http://a:1",
      staleness: "http://c:3",
      regeneration: "http://127.0.0.1:7103",
    });
  });

  it("names the source of a bad URL", () => {
    expect(() => resolveUrls({}, { STALENESS_URL: "nats://x" })).toThrow('STALENESS_URL must be an http:// or https:// URL, got "nats://x"');
  });
});

describe("argument errors exit 2 with one line naming the argument", () => {
  const cases: [string[], string][] = [
    [["assets", "register", "--kind", "bogus", "--name", "x"], '--kind must be one of model, lora, workflow, source-image, variant-image, got "bogus"'],
    [["assets", "register", "--name", "x"], "--kind is required"],
    [["assets", "register", "--kind"], "--kind needs a value"],
    [["receipt", "show"], "missing <segment-id>: expected `provenance receipt show <segment-id>`"],
    [["receipt", "show", "a", "b"], 'unexpected argument "b"'],
    [["receipt"], "missing subcommand for `provenance receipt`: expected one of show, history"],
    [["receipt", "print"], 'unknown subcommand "print"'],
    [["frobnicate"], 'unknown command "frobnicate"'],
    [["usage", "a", "--version", "zero"], '--version must be a whole number from 1 to 4294967295, got "zero"'],
    [["usage", "a", "--limit", "5000"], "--limit must be a whole number from 1 to 1000"],
    [["usage", "a", "--content-hash", "abc"], "--content-hash must be a SHA-256 content hash (64 hex digits)"],
    [["assets", "publish", "a", "--hash", "xyz", "--by", "me"], "--hash must be a SHA-256 content hash"],
    [["assets", "publish", "a", "--by", "me"], "--hash is required"],
    [["assets", "rollback", "a"], "--to-version is required"],
    [["assets", "rollback", "a", "--to-version", "0"], "--to-version must be a whole number from 1"],
    [["stale", "list", "--project", "p", "--asset", "a"], "give --project or --asset, not both"],
    [["stale", "report", "--bogus"], "unknown option --bogus"],
    [["regen", "plan"], "--project is required"],
    [["regen", "plan", "--project", "p", "--segments", "a,,b"], "--segments must be a comma-separated list without empty items"],
    [["regen", "submit", "--project", "p", "--by", "me"], "--key is required"],
    [["auth", "token", "--ttl", "0h"], "--ttl must be a lifetime like 90s, 30m, 12h or 7d"],
    [["auth", "token", "--group"], "--group needs a value"],
    [["regen", "status"], "missing <batch-id>"],
    [["watch", "--project"], "--project needs a value"],
    [["stale", "report", "--json=yes"], "--json is a switch and takes no value"],
    [["stale", "report", "--timeout", "soon"], "--timeout must be a whole number"],
    [["stale", "report", "--receipts-url", "localhost"], '--receipts-url must be an http:// or https:// URL, got "localhost"'],
    [["assets", "register", "--kind", "lora", "--name", ""], "--name must not be empty"],
  ];
  it.each(cases)("%j", async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^provenance: /);
  });
});

describe("help", () => {
  it("lists every command and the exit codes", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    for (const line of ["receipt show <segment-id>", "regen submit", "watch", "3    not found", "6    a service could not be reached", "7    not signed in", "auth token", "--token-file FILE"]) {
      expect(r.stdout).toContain(line);
    }
  });

  it("shows a command's options, and a group's commands", async () => {
    const command = await run("assets", "publish", "--help");
    expect(command.code).toBe(0);
    expect(command.stdout).toContain("--no-current");
    const group = await run("stale", "--help");
    expect(group.stdout).toContain("provenance stale report");
  });

  it("prints the overview on stderr and exits 2 with no arguments", async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: provenance");
  });
});

describe("an unreachable service", () => {
  it("exits 6 naming the service, its URL and how to start it", async () => {
    const r = await run("stale", "report");
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("the staleness service at http://127.0.0.1:1 could not be reached");
    expect(r.stderr).toContain("npm start");
  });
});
