/** `npm run bench -- --receipts N`: runs the benchmark, writes bench/results and the table in docs/performance.md. */
import { fileURLToPath } from "node:url";
import { DEFAULT_BATCH, DEFAULT_CONCURRENCY, parseBenchArgs } from "./bench-args.js";
import { updatePerformanceDoc, writeResults } from "./bench-results.js";
import { runBenchmark } from "./run-benchmark.js";
import { REPO_ROOT } from "./service-processes.js";

const args = parseBenchArgs(process.argv.slice(2));
const resultsDir = args.resultsDir ?? fileURLToPath(new URL("../results", import.meta.url));
const results = await runBenchmark({
  receipts: args.receipts,
  loadConcurrency: args.concurrency,
  batchSize: args.batch,
  workDir: `${resultsDir}/logs`,
  keepDatabase: args.keepDatabase,
  command:
    `npm run bench -- --receipts ${args.receipts}` +
    (args.concurrency !== DEFAULT_CONCURRENCY ? ` --concurrency ${args.concurrency}` : "") +
    (args.batch !== DEFAULT_BATCH ? ` --batch ${args.batch}` : ""),
});
const file = await writeResults(resultsDir, results);
if (args.updateDocs) await updatePerformanceDoc(`${REPO_ROOT}docs/performance.md`, results);
process.stderr.write(`results: ${file}\n`);
