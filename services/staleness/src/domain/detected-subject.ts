/** The subject a project's staleness changes are published on. Pure. */

/** Un-namespaced subject prefix of staleness changes. */
export const DETECTED_SUBJECT_PREFIX = "provenance.staleness.detected";

/**
 * `provenance.staleness.detected.<project_id>`. Ids are used as given when they are one valid subject token;
 * an id containing `.`, `*`, `>` or other characters NATS cannot carry in a token is percent-encoded.
 */
export function detectedSubject(projectId: string): string {
  const token = /^[A-Za-z0-9_\-:@+=~]+$/.test(projectId)
    ? projectId
    : encodeURIComponent(projectId).replace(/[.*>!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${DETECTED_SUBJECT_PREFIX}.${token}`;
}
