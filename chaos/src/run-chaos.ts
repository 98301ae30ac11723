/**
 * One chaos run, start to end: the system up in a temp dir, the assets registered, the load started, the scenario's
 * faults one after another, the load stopped, the system settled, the checker's verdict, the report — and everything
 * stopped and removed again, whatever happened.
 */
import { rmSync } from "node:fs";
import { DUPLICATE_WINDOW_MS } from "@provenance/shared";
import { setUpChaosAuth } from "./chaos-auth.js";
import { startChaosSystem, type ChaosSystem } from "./chaos-system.js";
import { GiveUpWatch } from "./check/advisories.js";
import { observe } from "./check/observe.js";
import { settle } from "./check/settle.js";
import { judge, type Verdict, type Window } from "./check/verdict.js";
import { performFault, type FaultRecord } from "./faults.js";
import { LoadGenerator } from "./load/load-generator.js";
import { clock, formatReport } from "./report.js";
import { buildScenario, describeFault, type Scenario } from "./scenario.js";
import { OWNER } from "./supervision/chaos-postgres.js";
import { sleep } from "./supervision/ports.js";
import { makeWorkDir } from "./supervision/work-dir.js";

/** How to run. */
export interface ChaosOptions {
  /** The run's length in minutes (default 10); the scenario scales to it. */
  minutes?: number;
  /** Keep the work dir (data and logs) instead of removing it. */
  keep?: boolean;
  /** Progress lines (default: nowhere). */
  say?: (line: string) => void;
}

/** The outcome. */
export interface ChaosResult {
  readonly verdict: Verdict;
  readonly report: string;
  readonly scenario: Scenario;
  readonly faults: readonly FaultRecord[];
  /** Receipts the services acknowledged. */
  readonly acknowledged: number;
  /** The work dir, when kept. */
  readonly keptIn?: string;
}

const PROGRESS_EVERY_MS = 30_000;

/** Runs the scenario of `opts.minutes` and returns the verdict and the report. */
export async function runChaos(opts: ChaosOptions = {}): Promise<ChaosResult> {
  const began = Date.now();
  const startedAt = new Date(began);
  const say = opts.say ?? (() => {});
  const scenario = buildScenario(opts.minutes ?? 10);
  const work = makeWorkDir();
  // However the run ends (an error, Ctrl-C), its data goes; the processes are killed by their supervisor.
  const removeWork = () => {
    if (!opts.keep) rmSync(work.root, { recursive: true, force: true });
  };
  process.once("exit", removeWork);
  const systemLines: string[] = [];
  const sayAndKeep = (line: string) => {
    systemLines.push(line);
    say(line);
  };
  let system: ChaosSystem | undefined;
  let stopAdvisories: (() => Promise<void>) | undefined;
  try {
    say(`work dir     ${work.root}${opts.keep ? " (kept)" : " (removed at the end)"}`);
    const auth = await setUpChaosAuth(work.sub("auth"));
    system = await startChaosSystem(work, auth, sayAndKeep);
    const targets = {
      receipts: system.replicasOf("receipts").map((r) => r.url),
      staleness: system.replicasOf("staleness").map((r) => r.url),
      regeneration: system.replicasOf("regeneration").map((r) => r.url),
    };
    const advisoryNc = await system.nats.connect("chaos-advisories");
    const giveUps = new GiveUpWatch(advisoryNc);
    stopAdvisories = async () => {
      giveUps.stop();
      await advisoryNc.close();
    };
    const load = new LoadGenerator({ targets, tokens: auth.tokens, assetEveryMs: scenario.assetEveryMs });
    await load.setUp();
    say(`assets       ${load.catalog.all().length} registered, version 1 of each published`);

    const loadStart = Date.now();
    const now = () => Date.now() - loadStart;
    load.start();
    say(`load         started; ${scenario.steps.length} faults over ${clock(scenario.loadMs)}`);
    const progress = setInterval(() => {
      const acked = load.ledger.acknowledged().length;
      say(`${clock(now())}         ${acked.toLocaleString("en-US")} receipts acknowledged, ${load.stats.resends.toLocaleString("en-US")} resends`);
    }, PROGRESS_EVERY_MS);

    const faults: FaultRecord[] = [];
    try {
      for (const step of scenario.steps) {
        const wait = step.atMs - now();
        if (wait > 0) await sleep(wait);
        say(`${clock(now())}  fault  ${describeFault(step.fault)}`);
        const record = await performFault(system, step.fault, now);
        faults.push(record);
        say(`${clock(now())}         ${record.detail}`);
      }
      const end = Math.max(scenario.loadMs, now() + scenario.coolDownMs);
      if (end > now()) await sleep(end - now());
    } finally {
      clearInterval(progress);
    }
    say(`${clock(now())}  load   stopping; requests in flight are resent until answered`);
    await load.stop();
    const loadMs = now();

    const nc = await system.nats.connect("chaos-checker");
    try {
      const ownerUrl = system.postgres.urlAs(OWNER);
      const settled = await settle(ownerUrl, nc, scenario.settleMs);
      say(`settle       ${settled.settled ? "settled" : "did not settle"} in ${Math.round(settled.tookMs / 1000)} s; checking`);
      const observed = await observe(ownerUrl, nc);
      const windows: Window[] = faults
        .filter((f) => f.fault.kind === "kill-nats-leader")
        .map((f) => ({ label: `one NATS node down (${f.detail.split(" ")[0]}, ${clock(f.startMs)}-${clock(f.endMs)})`, fromMs: loadStart + f.startMs, toMs: loadStart + f.endMs }));
      const crashes = system.crashes.map((c) => `${c.name} exited on its own at ${clock(c.atMs - loadStart)} (${c.signal ?? `code ${c.code}`})`);
      const outages = faults.flatMap((f) =>
        f.midRelay && f.fault.kind === "outage"
          ? [{ label: `every ${f.fault.service} replica down for ${Math.round(f.fault.downMs / 1000)} s, from ${clock(f.startMs)} (the duplicate window is ${DUPLICATE_WINDOW_MS / 1000} s)`, midRelay: f.midRelay }]
          : [],
      );
      const verdict = judge({ ledger: load.ledger, stats: load.stats, observed, crashes, windows, outages, givenUp: giveUps.givenUp });
      const report = formatReport({ scenario, startedAt, system: systemLines, faults, loadMs, settled, stats: load.stats, verdict, tookMs: Date.now() - began });
      return { verdict, report, scenario, faults, acknowledged: load.ledger.acknowledged().length, keptIn: opts.keep ? work.root : undefined };
    } finally {
      await nc.close();
    }
  } finally {
    await stopAdvisories?.().catch(() => undefined);
    await system?.stop();
    removeWork();
    process.removeListener("exit", removeWork);
  }
}
