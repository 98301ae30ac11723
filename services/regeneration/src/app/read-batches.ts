/** GetRegenerationBatch and ListRegenerationJobs: a batch with its jobs, and pages of jobs. Reads only. */
import { decodeSeqToken, encodePageToken, notFound, pageSizeOf } from "@provenance/shared";
import type { BatchView, JobRecord } from "../domain/regeneration-records.js";
import type { BatchRepository } from "../persistence/batch-repository.js";
import type { JobFilter, JobRepository } from "../persistence/job-repository.js";

/** A page of jobs, and the token of the next ("" after the last). */
export interface JobPage {
  jobs: JobRecord[];
  nextPageToken: string;
}

/** The read use cases of batches and jobs. */
export class ReadBatches {
  constructor(
    private readonly batches: BatchRepository,
    private readonly jobs: JobRepository,
  ) {}

  /** A batch with every job of it, in submission order; NOT_FOUND when there is none. */
  async batch(batchId: string): Promise<BatchView> {
    const batch = await this.batches.batch(batchId);
    if (!batch) throw notFound("regeneration batch", batchId);
    return { batch, jobs: await this.jobs.ofBatch(batchId) };
  }

  /**
   * One page of the jobs matching `filter`, in submission order (`pageSize` 0 = the default); `filter.projects` keeps
   * only the caller's projects, in the statement, so pages stay full.
   */
  async listJobs(filter: JobFilter, pageSize: number, pageToken: string): Promise<JobPage> {
    const limit = pageSizeOf(pageSize);
    const jobs = await this.jobs.list(filter, limit, decodeSeqToken(pageToken));
    const last = jobs.at(-1);
    return { jobs, nextPageToken: jobs.length === limit && last ? encodePageToken(last.seq.toString()) : "" };
  }
}
