/** The access decision's resolvers: the project of each batch (or reproduction) a request names, one statement per request. */
import type { ProjectResolvers } from "@provenance/shared/auth";
import type { DataSource } from "typeorm";
import { BatchRepository } from "../persistence/batch-repository.js";
import { ReproductionRepository } from "../persistence/reproduction-repository.js";

/** The batch and reproduction resolvers over the regeneration schema; unknown ids are absent, so the handler answers them. */
export function regenerationResolvers(ds: DataSource): ProjectResolvers {
  const batches = new BatchRepository(ds);
  const reproductions = new ReproductionRepository(ds);
  return { batch: (ids) => batches.projectsOf(ids), reproduction: (ids) => reproductions.projectsOf(ids) };
}
