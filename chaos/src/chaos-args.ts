/** The command line of `npm run chaos`: `[--minutes N] [--keep]`. */

/** What the command line asks for. */
export interface ChaosArgs {
  readonly minutes: number;
  readonly keep: boolean;
  readonly help: boolean;
}

/** The usage text. */
export const USAGE = `usage: npm run chaos -- [--minutes N] [--keep]

  Runs its own PostgreSQL, a 3-node NATS cluster (streams at R3), two replicas of each service and the pipeline
  simulator on loopback, in a temp dir; sends steady load; kills replicas, a NATS node, restarts PostgreSQL and takes
  every receipts replica down for up to 3 minutes; then checks that nothing acknowledged was lost or doubled.

  --minutes N   length of the run, 1.5 to 120 (default 10; the faults scale with it, the outage is at most 3 min)
  --keep        keep the temp dir (data and every process's log) instead of removing it
  exit status   0 when every check holds, 1 when one does not (the report names it), 2 for a bad command line`;

/** Parses `argv` (without node and the script); throws an Error saying what is wrong. */
export function parseChaosArgs(argv: readonly string[]): ChaosArgs {
  let minutes = 10;
  let keep = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--keep") keep = true;
    else if (arg === "--help" || arg === "-h") help = true;
    else if (arg === "--minutes" || arg.startsWith("--minutes=")) {
      const raw = arg.includes("=") ? arg.slice("--minutes=".length) : argv[++i];
      const value = Number(raw);
      if (raw === undefined || raw.trim() === "" || !Number.isFinite(value) || value < 1.5 || value > 120) {
        throw new Error(`--minutes: must be a number from 1.5 to 120, got ${raw === undefined ? "nothing" : `"${raw}"`}`);
      }
      minutes = value;
    } else throw new Error(`unknown argument "${arg}"`);
  }
  return { minutes, keep, help };
}
