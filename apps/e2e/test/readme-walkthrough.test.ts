/**
 * The README's walkthrough, run as a reader runs it: the exact commands between `<!-- walkthrough:start -->` and
 * `<!-- walkthrough:end -->`, one after another in one bash session (so shell variables carry over), from the
 * repository folder, against the whole system started as `npm start` starts it. The only change made to a command is
 * the port: the system listens on free ports here, so `127.0.0.1:7101/7102/7103` are rewritten to them (and the CLI
 * finds them through RECEIPTS_URL etc., and the system's local issuer through PROVENANCE_DATA_DIR, as it finds npm
 * start's in .data). Every command must exit 0; each `# → text` line under a command must appear
 * in its output. Reads that depend on events (projection, detection) are re-run for a few seconds until they match,
 * as a person would re-run them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, createTestNats, repositoryRoot, type TestDatabase, type TestNats } from "@provenance/shared/testing";
import { startSystem, type RunningSystem } from "@provenance/system";

/** One command of the walkthrough and what its output must contain. */
interface Step {
  command: string;
  expect: string[];
}

const REPO = repositoryRoot();
const README = join(REPO, "README.md");

/** The walkthrough's commands: continuation lines joined, comments dropped, `# →` lines attached to their command. */
function walkthroughSteps(markdown: string): Step[] {
  const start = markdown.indexOf("<!-- walkthrough:start -->");
  const end = markdown.indexOf("<!-- walkthrough:end -->");
  if (start < 0 || end < start) throw new Error("README.md has no <!-- walkthrough:start --> … <!-- walkthrough:end --> section");
  const blocks = [...markdown.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const steps: Step[] = [];
  for (const block of blocks) {
    const lines = block.split("\n");
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      const arrow = /^#\s*→\s?(.*)$/.exec(line.trim());
      if (arrow) {
        const last = steps.at(-1);
        if (!last) throw new Error(`an expectation before any command: ${line}`);
        last.expect.push(arrow[1]!);
        continue;
      }
      if (line.trim() === "" || line.trim().startsWith("#")) continue;
      while (line.endsWith("\\") && i + 1 < lines.length) line = `${line}\n${lines[++i]}`;
      steps.push({ command: line, expect: [] });
    }
  }
  return steps;
}

/** A bash session that runs commands one at a time and hands back each one's output and exit code. */
class Shell {
  private readonly bash: ChildProcessWithoutNullStreams;
  private buffer = "";
  private waiting?: (result: { output: string; code: number }) => void;
  private readonly marker = `__walkthrough_${process.pid}__`;

  constructor(cwd: string, env: NodeJS.ProcessEnv, private readonly outFile: string) {
    this.bash = spawn("bash", ["--noprofile", "--norc"], { cwd, env });
    const take = (chunk: Buffer) => {
      this.buffer += chunk.toString("utf8");
      const at = this.buffer.indexOf(this.marker);
      if (at < 0 || !this.waiting) return;
      const rest = this.buffer.slice(at + this.marker.length);
      const newline = rest.indexOf("\n");
      if (newline < 0) return;
      const code = Number(rest.slice(0, newline).trim());
      const output = this.buffer.slice(0, at);
      this.buffer = rest.slice(newline + 1);
      const done = this.waiting;
      this.waiting = undefined;
      done({ output, code });
    };
    this.bash.stdout.on("data", take);
    this.bash.stderr.on("data", take);
  }

  /** Runs `command` in this session (assignments persist), its stdout and stderr together. */
  run(command: string): Promise<{ output: string; code: number }> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.bash.stdin.write(`{ ${command}\n} > ${this.outFile} 2>&1 < /dev/null; __rc=$?; cat ${this.outFile}; echo; echo "${this.marker}$__rc"\n`);
    });
  }

  close(): void {
    this.bash.stdin.end();
    this.bash.kill();
  }
}

let db: TestDatabase;
let nats: TestNats;
let system: RunningSystem;
let workDir: string;

beforeAll(async () => {
  db = await createTestDatabase("walkthrough");
  nats = await createTestNats();
  workDir = await mkdtemp(join(tmpdir(), "walkthrough-"));
  system = await startSystem({
    dataDir: workDir,
    databaseUrl: db.url,
    natsUrl: nats.url,
    eventNamespace: nats.namespace,
    ports: { receipts: 0, staleness: 0, regeneration: 0 },
    consolePort: false,
    logLevel: "silent",
  });
});

afterAll(async () => {
  await system?.stop();
  await nats?.cleanup();
  await db?.drop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("the README walkthrough", () => {
  it("finds the walkthrough's commands and expectations", () => {
    const steps = walkthroughSteps(readFileSync(README, "utf8"));
    expect(steps.length).toBeGreaterThan(10);
    expect(steps.filter((s) => s.expect.length > 0).length).toBeGreaterThan(10);
  });

  it("runs top to bottom against a running system, every command as written", async () => {
    const steps = walkthroughSteps(readFileSync(README, "utf8"));
    const ports: Record<string, string> = {
      "127.0.0.1:7101": new URL(system.urls.receipts).host,
      "127.0.0.1:7102": new URL(system.urls.staleness).host,
      "127.0.0.1:7103": new URL(system.urls.regeneration).host,
    };
    const shell = new Shell(
      REPO,
      {
        ...process.env,
        RECEIPTS_URL: system.urls.receipts,
        STALENESS_URL: system.urls.staleness,
        REGENERATION_URL: system.urls.regeneration,
        PROVENANCE_DATA_DIR: workDir,
        TMPDIR: workDir,
        NO_COLOR: "1",
      },
      join(workDir, "step-output"),
    );
    try {
      for (const step of steps) {
        const command = step.command.replace(/127\.0\.0\.1:710[123]/g, (hostPort) => ports[hostPort]!);
        const deadline = Date.now() + 10_000;
        for (;;) {
          const { output, code } = await shell.run(command);
          const missing = step.expect.filter((text) => !output.includes(text));
          if (code === 0 && missing.length === 0) break;
          if (Date.now() > deadline) {
            throw new Error(
              `README walkthrough step failed (exit ${code}):\n$ ${step.command}\n${output}` +
                (missing.length > 0 ? `\nexpected the output to contain:\n${missing.map((m) => `  ${m}`).join("\n")}` : ""),
            );
          }
          await new Promise((r) => setTimeout(r, 300));
        }
      }
    } finally {
      shell.close();
    }
  });
});
