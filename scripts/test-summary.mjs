// Sums the vitest JSON reports of every workspace into one closing line: "tests: N passed, N failed".
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { workspaceDirs } from "./workspace-dirs.mjs";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of workspaceDirs()) {
  const file = join(dir, "test-results.json");
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
