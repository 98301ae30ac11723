/** What the request-driven use cases need. */
import type { DataSource } from "typeorm";

/** The staleness schema's DataSource, and who to tell when a current-version change has committed. */
export interface AppDeps {
  dataSource: DataSource;
  /** Called after a change of an asset's current version has committed (wakes the detector). */
  onCurrentChanged?: () => void;
}
