/** The access decision's resolver: the project of each batch a request names, one statement per request. */
import type { ProjectResolvers } from "@provenance/shared/auth";
import type { DataSource } from "typeorm";
import { BatchRepository } from "../persistence/batch-repository.js";

/** The batch resolver over the regeneration schema; unknown ids are absent, so the handler answers them. */
export function regenerationResolvers(ds: DataSource): ProjectResolvers {
  const batches = new BatchRepository(ds);
  return { batch: (ids) => batches.projectsOf(ids) };
}
