/** The machine a run measured: cores, memory, Node, PostgreSQL and NATS versions. */
import { cpus, totalmem, loadavg, hostname } from "node:os";
import type pg from "pg";

/** Where the numbers come from. */
export interface MachineInfo {
  host: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  loadAverageAtStart: number[];
  node: string;
  postgres: string;
  platform: string;
}

/** Reads the machine's description (PostgreSQL's version from the server itself). */
export async function machineInfo(db: pg.Pool): Promise<MachineInfo> {
  const { rows } = await db.query(`SHOW server_version`);
  return {
    host: hostname(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    postgres: rows[0].server_version as string,
    platform: `${process.platform} ${process.arch}`,
  };
}
