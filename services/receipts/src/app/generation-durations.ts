/** GetGenerationDurations: the median generation time of past receipts like each key, over the caller's projects. */
import type { DataSource } from "typeorm";
import { projectFilter } from "@provenance/shared";
import type { ProjectScope } from "@provenance/shared/auth";
import { distinctDurationKeys, durationKeyText, type DurationKey, type DurationStats } from "../domain/generation-durations.js";
import { generationDurations } from "../persistence/duration-repository.js";

/**
 * Each key's median and sample size, in request order (equal keys are read once), over the latest matching SUCCEEDED
 * receipts of the projects in `viewable`; a caller who may view none gets no history.
 */
export async function getGenerationDurations(ds: DataSource, keys: readonly DurationKey[], viewable: ProjectScope): Promise<(DurationStats | undefined)[]> {
  const projects = projectFilter(viewable);
  const stats = projects !== undefined && projects.length === 0 ? new Map<string, DurationStats>() : await generationDurations(ds.manager, distinctDurationKeys(keys), projects);
  return keys.map((k) => stats.get(durationKeyText(k)));
}
