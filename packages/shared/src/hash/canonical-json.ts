/** RFC 8785 (JCS) canonical JSON through the maintained `canonicalize` package. */
import canonicalizeModule from "canonicalize";

// The package is CommonJS (`module.exports = fn`) but its typings declare an ES default export,
// which NodeNext resolution reads as a namespace; at run time the default import is the function.
const serialize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** The canonical JSON text of `value`, or undefined for values JSON cannot represent. */
export function canonicalJson(value: unknown): string | undefined {
  return serialize(value);
}
