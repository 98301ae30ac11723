/**
 * What happens when in a chaos run, as data: the load's length and the faults, at offsets from the start of the load,
 * scaled to the run's length. The default 10-minute run:
 *
 *   warm-up      load only
 *   replicas     kill -9 of each replica of each service in turn (receipts, staleness, regeneration), each started
 *                again after a few seconds
 *   NATS         kill -9 of the node leading the PROVENANCE stream; it stays down a while (the streams keep a quorum
 *                of two), then starts again and catches up
 *   PostgreSQL   an immediate restart
 *   outage       kill -9 of every receipts replica together (the relay mid-batch), down for 3 minutes — longer than
 *                JetStream's 2-minute duplicate window, the outage that used to double events
 *   cool-down    load only
 *
 * then the load stops, the system settles and the checker runs. Shorter runs keep the same steps, shorter.
 */
import type { ServiceName } from "@provenance/shared";

/** One fault. */
export type Fault =
  | { readonly kind: "kill-replica"; readonly service: ServiceName; readonly index: number; readonly downMs: number }
  | { readonly kind: "kill-nats-leader"; readonly downMs: number }
  | { readonly kind: "restart-postgres" }
  | { readonly kind: "outage"; readonly service: ServiceName; readonly downMs: number };

/** A fault at an offset from the start of the load. */
export interface ScenarioStep {
  readonly atMs: number;
  readonly fault: Fault;
}

/** A whole run. */
export interface Scenario {
  /** The run's length as asked for. */
  readonly minutes: number;
  /** How long the load runs (it runs on past this until every step is done and the cool-down has passed). */
  readonly loadMs: number;
  /** Load with no fault after the last step, at least. */
  readonly coolDownMs: number;
  /** How long the system may take to settle after the load before the check. */
  readonly settleMs: number;
  /** A new LoRA version and a regeneration submit this often. */
  readonly assetEveryMs: number;
  readonly steps: readonly ScenarioStep[];
}

/** The longest outage: past the 2-minute duplicate window with room to spare. */
export const MAX_OUTAGE_MS = 3 * 60_000;
/** The services whose replicas are killed one by one, in this order. */
const KILL_ORDER: readonly ServiceName[] = ["receipts", "staleness", "regeneration"];

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/**
 * The scenario of a `minutes`-long run (default 10). About a sixth of the time (30–90 s) is kept for starting,
 * settling and checking; of the load, about a third is the outage (at most {@link MAX_OUTAGE_MS}) and the rest is
 * shared out as warm-up 8 %, replica kills 36 %, NATS node down 20 %, PostgreSQL restart, cool-down.
 */
export function buildScenario(minutes = 10): Scenario {
  if (!Number.isFinite(minutes) || minutes < 1.5 || minutes > 120) throw new Error(`--minutes must be from 1.5 to 120, got ${minutes}`);
  const totalMs = minutes * 60_000;
  const reserveMs = clamp(totalMs / 6, 30_000, 90_000);
  const loadMs = totalMs - reserveMs;
  const outageMs = Math.min(MAX_OUTAGE_MS, Math.round(loadMs * 0.36));
  const restMs = loadMs - outageMs;

  const steps: ScenarioStep[] = [];
  let at = restMs * 0.08;
  const killSpacing = (restMs * 0.36) / (KILL_ORDER.length * 2);
  for (const service of KILL_ORDER) {
    for (const index of [1, 2]) {
      steps.push({ atMs: Math.round(at), fault: { kind: "kill-replica", service, index, downMs: Math.round(clamp(killSpacing / 4, 1_000, 5_000)) } });
      at += killSpacing;
    }
  }
  const natsDownMs = Math.round(restMs * 0.15);
  steps.push({ atMs: Math.round(at), fault: { kind: "kill-nats-leader", downMs: natsDownMs } });
  at += restMs * 0.2;
  steps.push({ atMs: Math.round(at), fault: { kind: "restart-postgres" } });
  at += restMs * 0.06;
  steps.push({ atMs: Math.round(at), fault: { kind: "outage", service: "receipts", downMs: outageMs } });
  const coolDownMs = Math.round(restMs * 0.1);
  return {
    minutes,
    loadMs: Math.round(loadMs),
    coolDownMs,
    settleMs: Math.round(clamp(reserveMs * 0.7, 20_000, 60_000)),
    assetEveryMs: Math.round(clamp(loadMs / 16, 8_000, 30_000)),
    steps,
  };
}

/** A fault in words, for the report. */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case "kill-replica":
      return `kill -9 ${fault.service}-${fault.index}, start it again after ${(fault.downMs / 1000).toFixed(0)} s`;
    case "kill-nats-leader":
      return `kill -9 the NATS node leading PROVENANCE, start it again after ${(fault.downMs / 1000).toFixed(0)} s`;
    case "restart-postgres":
      return "immediate PostgreSQL restart (SIGQUIT to the postmaster, then start: crash recovery)";
    case "outage":
      return `kill -9 every ${fault.service} replica, all down for ${(fault.downMs / 1000).toFixed(0)} s`;
  }
}
