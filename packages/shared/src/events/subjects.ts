/** The JetStream streams of the platform. */
export type StreamKind = "PROVENANCE" | "GENERATION";

/** Every stream kind, with the subjects it captures (un-namespaced). */
export const STREAM_SUBJECTS: Readonly<Record<StreamKind, string>> = {
  PROVENANCE: "provenance.>",
  GENERATION: "generation.>",
};

/** The stream that captures an un-namespaced subject (`provenance.…` → PROVENANCE, `generation.…` → GENERATION). */
export function streamOf(subject: string): StreamKind {
  for (const kind of Object.keys(STREAM_SUBJECTS) as StreamKind[]) if (subjectMatches(STREAM_SUBJECTS[kind], subject)) return kind;
  throw new Error(`no stream captures the subject "${subject}"`);
}

/** The stream's name in a namespace: `PROVENANCE` when `ns` is empty, else `<NS>_PROVENANCE`. */
export function streamName(ns: string, kind: StreamKind): string {
  return ns ? `${ns.toUpperCase()}_${kind}` : kind;
}

/** The subject as published in a namespace: unchanged when `ns` is empty, else `<ns>.<subject>`. */
export function subjectFor(ns: string, subject: string): string {
  return ns ? `${ns}.${subject}` : subject;
}

/** The inverse of subjectFor: drops the namespace prefix from a received subject. */
export function stripNamespace(ns: string, subject: string): string {
  const prefix = `${ns}.`;
  return ns && subject.startsWith(prefix) ? subject.slice(prefix.length) : subject;
}

/** Whether a concrete subject matches a NATS subject pattern (`*` one token, `>` the rest). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const t = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return t.length > i;
    if (i >= t.length || (p[i] !== "*" && p[i] !== t[i])) return false;
  }
  return p.length === t.length;
}
