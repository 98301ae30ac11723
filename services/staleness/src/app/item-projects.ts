/** The access decision's resolver: the project of each asset a request names (null: shared), one statement per request. */
import type { ProjectResolvers } from "@provenance/shared/auth";
import type { DataSource } from "typeorm";
import { assetProjects } from "../persistence/asset-repository.js";

/** The asset resolver over the staleness schema; unregistered ids are absent, so the handler answers them. */
export function stalenessResolvers(ds: DataSource): ProjectResolvers {
  return { asset: (ids) => assetProjects(ds.manager, ids) };
}
