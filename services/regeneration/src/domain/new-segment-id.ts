/** The id a regeneration job asks the pipeline to record its new segment under. */

/** Longest id the API accepts (the `id()` rule). */
const MAX_ID = 200;

/**
 * `<old segment id>-r<first 8 hex of the job id>`: readable in every list, it says which segment it
 * replaced, and distinct per job. When that would be too long for an id, the job id itself.
 */
export function newSegmentIdFor(oldSegmentId: string, jobId: string): string {
  const suffix = `-r${jobId.replace(/-/g, "").slice(0, 8)}`;
  return oldSegmentId.length + suffix.length <= MAX_ID ? `${oldSegmentId}${suffix}` : jobId;
}
