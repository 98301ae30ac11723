/** What the repositories run their SQL on. */
import type { EntityManager } from "typeorm";

/** The DataSource (one statement, autocommit), or the manager of the caller's transaction. */
export type Queryable = Pick<EntityManager, "query">;
