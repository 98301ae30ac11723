// Removes last run's vitest JSON reports so the summary counts only this run.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

for (const group of ["packages", "services"]) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) rmSync(join(group, name, "test-results.json"), { force: true });
}
