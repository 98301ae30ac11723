#!/usr/bin/env node
/** `npm run chaos`: runs the chaos scenario, prints its progress and report, and exits 0 only when every check held. */
import { USAGE, parseChaosArgs } from "./chaos-args.js";
import { runChaos } from "./run-chaos.js";

let args;
try {
  args = parseChaosArgs(process.argv.slice(2));
} catch (err) {
  console.error(`chaos: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
// Ctrl-C: exit at once; every child is killed and the temp dir removed on the way out.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));
try {
  const result = await runChaos({ minutes: args.minutes, keep: args.keep, say: (line) => console.log(line) });
  console.log(`\n${result.report}`);
  if (result.keptIn) console.log(`data and logs kept in ${result.keptIn}`);
  process.exit(result.verdict.ok ? 0 : 1);
} catch (err) {
  console.error(`chaos: the run could not be completed: ${(err as Error).stack ?? err}`);
  process.exit(1);
}
