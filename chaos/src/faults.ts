/** Carries out the scenario's faults on the running system, and records when each happened. */
import pg from "pg";
import { PROVENANCE_STREAM, streamName, type ServiceName } from "@provenance/shared";
import type { ChaosSystem } from "./chaos-system.js";
import { describeFault, type Fault } from "./scenario.js";
import { OWNER } from "./supervision/chaos-postgres.js";
import { sleep } from "./supervision/ports.js";

/** Outbox rows a relay had claimed and may have published, but not yet deleted, when its replicas were killed. */
export interface MidRelay {
  /** Their event ids. */
  readonly eventIds: readonly string[];
  /** The PROVENANCE stream's last sequence right after the kill: those of them at or below it were published already. */
  readonly streamLastSeq: number;
  /** Whether the kill went out the moment a relay was seen publishing a batch (else: none was within the wait). */
  readonly caughtPublishing: boolean;
}

/** A fault as it happened, in ms from the start of the load. */
export interface FaultRecord {
  readonly fault: Fault;
  readonly label: string;
  readonly startMs: number;
  /** When what was taken down was back (ready again). */
  readonly endMs: number;
  /** What exactly was done (which node, which pids). */
  readonly detail: string;
  /** For an outage: the rows caught mid-relay. */
  readonly midRelay?: MidRelay;
}

/** The subjects each service's relay publishes on. */
const OUTAGE_SUBJECTS: Record<ServiceName, string> = {
  receipts: "provenance.receipt.>",
  staleness: "provenance.>",
  regeneration: "generation.>",
};

/** Events seen within {@link BURST_WITHIN_MS} that make a batch being relayed. */
const BURST_EVENTS = 5;
const BURST_WITHIN_MS = 10;

/** How long an outage waits for a moment when a relay is in the middle of a batch. */
const MID_RELAY_WAIT_MS = 10_000;

/** Outbox rows of `service` covered by an attempt record (claimed by a relay about to publish them), by event id. */
async function rowsMidRelay(db: pg.Client, service: ServiceName): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT o.id::text AS id FROM ${service}.outbox o
      WHERE EXISTS (SELECT 1 FROM ${service}.outbox_attempts a WHERE o.seq BETWEEN a.first_seq AND a.last_seq)`,
  );
  return rows.map((r) => r.id);
}

/**
 * kill -9 of every replica of `service` at the worst moment for exactly-once, if it comes within
 * {@link MID_RELAY_WAIT_MS}: the instant one of its relays is seen publishing a batch (a burst of events on its
 * subjects), when that relay has recorded its attempt and the batch is on its way to the stream with the rows'
 * deletion not committed.
 * Returns the rows left claimed, and where the stream stood right after the kill.
 */
async function killMidRelay(system: ChaosSystem, service: ServiceName, subjects: string): Promise<MidRelay> {
  const nc = await system.nats.connect("chaos-outage");
  const replicas = system.replicasOf(service);
  let killed: Promise<unknown> | undefined;
  let onKill!: () => void;
  const killSent = new Promise<void>((resolve) => (onKill = resolve));
  let caughtPublishing = false;
  // The kill is sent from the subscription's callback itself (the signals go out synchronously), not a round trip later.
  const killAll = (publishing: boolean) => {
    if (killed) return;
    caughtPublishing = publishing;
    killed = Promise.all(replicas.map((r) => system.killReplica(r)));
    onKill();
  };
  // A burst of events is a batch being relayed: kill in the middle of one with many rows, not after a lone event.
  const arrivals: number[] = [];
  const sub = nc.subscribe(subjects, {
    callback: () => {
      const t = performance.now();
      arrivals.push(t);
      while (arrivals[0]! < t - BURST_WITHIN_MS) arrivals.shift();
      if (arrivals.length >= BURST_EVENTS) killAll(true);
    },
  });
  const timer = setTimeout(() => killAll(false), MID_RELAY_WAIT_MS);
  try {
    await killSent;
    await killed;
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
    await nc.close();
  }
  const db = new pg.Client({ connectionString: system.postgres.urlAs(OWNER) });
  await db.connect();
  try {
    const eventIds = await rowsMidRelay(db, service);
    const info = (await system.nats.streamInfos()).find((i) => i.config.name === streamName("", PROVENANCE_STREAM));
    return { eventIds, streamLastSeq: info?.state.last_seq ?? 0, caughtPublishing };
  } finally {
    await db.end();
  }
}

/** Performs `fault`; `now()` is the time since the start of the load. */
export async function performFault(system: ChaosSystem, fault: Fault, now: () => number): Promise<FaultRecord> {
  const startMs = now();
  const record = (detail: string): FaultRecord => ({ fault, label: describeFault(fault), startMs, endMs: now(), detail });
  switch (fault.kind) {
    case "kill-replica": {
      const replica = system.replicasOf(fault.service).find((r) => r.index === fault.index)!;
      const pid = replica.process.pid;
      await system.killReplica(replica);
      await sleep(fault.downMs);
      await system.startReplica(replica);
      return record(`${replica.process.name} pid ${pid} killed, ready again as pid ${replica.process.pid}`);
    }
    case "kill-nats-leader": {
      const leader = await system.nats.leaderOf("PROVENANCE");
      const pid = leader.process.pid;
      await system.nats.kill(leader);
      const downAtMs = now();
      await sleep(fault.downMs);
      const newLeader = await system.nats.leaderOf("PROVENANCE").then(
        (n) => n.name,
        () => "none",
      );
      const upAtMs = now();
      await system.nats.restart(leader);
      return {
        ...record(`${leader.name} (pid ${pid}) killed; PROVENANCE led by ${newLeader} meanwhile; restarted and caught up`),
        // The window the report calls "one node down": from the kill to the restart.
        startMs: downAtMs,
        endMs: upAtMs,
      };
    }
    case "restart-postgres": {
      const pid = system.postgres.process.pid;
      const downMs = await system.postgres.restartImmediate();
      return record(`postmaster pid ${pid} sent SIGQUIT; answering again after ${downMs} ms as pid ${system.postgres.process.pid}`);
    }
    case "outage": {
      const replicas = system.replicasOf(fault.service);
      const pids = replicas.map((r) => r.process.pid);
      const midRelay = await killMidRelay(system, fault.service, OUTAGE_SUBJECTS[fault.service]);
      const killedAtMs = now();
      await sleep(fault.downMs);
      await Promise.all(replicas.map((r) => system.startReplica(r)));
      return {
        ...record(
          `${replicas.map((r, i) => `${r.process.name} pid ${pids[i]}`).join(", ")} killed together with ${midRelay.eventIds.length} outbox rows mid-relay, ` +
            `started again after ${Math.round(fault.downMs / 1000)} s`,
        ),
        startMs: killedAtMs,
        midRelay,
      };
    }
  }
}
