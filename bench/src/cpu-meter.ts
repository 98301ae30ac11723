/**
 * CPU seconds spent per component (each service process, this process, and the PostgreSQL backends serving the
 * bench database), read from /proc, so a phase's cost can be split by who spent it.
 */
import { readFile, readdir } from "node:fs/promises";
import type { ServiceProcess } from "./service-processes.js";

/** Cumulative CPU seconds per component. */
export type CpuSnapshot = Record<string, number>;

const TICKS_PER_SECOND = 100;

async function cpuSecondsOf(pid: number | string): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name: utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Sum of CPU seconds of the PostgreSQL backends whose title names `database`. */
async function postgresSeconds(database: string): Promise<number> {
  let total = 0;
  let pids: string[] = [];
  try {
    pids = (await readdir("/proc")).filter((p) => /^\d+$/.test(p));
  } catch {
    return Number.NaN;
  }
  for (const pid of pids) {
    try {
      const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.startsWith("postgres:") && cmd.includes(` ${database} `)) total += await cpuSecondsOf(pid);
    } catch {
      // The process ended between listing and reading.
    }
  }
  return total;
}

/** Takes snapshots; differences of two give the CPU a phase cost per component. */
export class CpuMeter {
  constructor(
    private readonly processes: ServiceProcess[],
    private readonly database: string,
  ) {}

  /** The cumulative CPU seconds now. */
  async snapshot(): Promise<CpuSnapshot> {
    const snap: CpuSnapshot = {};
    for (const p of this.processes) snap[p.name] = await cpuSecondsOf(p.pid);
    const own = process.cpuUsage();
    snap.bench = (own.user + own.system) / 1e6;
    snap.postgres = await postgresSeconds(this.database);
    return snap;
  }

  /** CPU seconds spent per component between two snapshots. */
  static delta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
    const d: CpuSnapshot = {};
    for (const k of Object.keys(after)) d[k] = Math.round(((after[k] ?? 0) - (before[k] ?? 0)) * 100) / 100;
    return d;
  }
}
