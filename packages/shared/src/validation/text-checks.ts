/** Checks on client text that never copy it: NUL and lone surrogates, code point counts, short quotes for messages. */

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** How many characters of a string are quoted back in an error message. */
const QUOTE_CHARS = 24;

/**
 * What makes `s` unstorable text, or undefined: a NUL (PostgreSQL text and jsonb cannot hold U+0000) or a lone
 * surrogate (not Unicode; jsonb rejects it and UTF-8 cannot encode it). Reads as the end of "field: …".
 */
export function describeTextFault(s: string): string | undefined {
  const nul = s.indexOf("\u0000");
  if (nul >= 0) return `must not contain NUL characters (U+0000); found one at offset ${nul}`;
  const lone = LONE_SURROGATE.exec(s);
  if (lone) {
    const unit = lone[0].charCodeAt(0).toString(16).toUpperCase();
    return `must be well-formed Unicode; found a lone surrogate (U+${unit}) at offset ${lone.index}`;
  }
  return undefined;
}

/** The number of Unicode code points in `s` (a surrogate pair counts once), counted without building an array. */
export function codePointCount(s: string): number {
  let pairs = 0;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return s.length - pairs;
}

/** `s` as a short JSON string for an error message: at most 24 characters of it, then "…"; never the whole of a long value. */
export function quoted(s: string): string {
  if (s.length <= QUOTE_CHARS) return JSON.stringify(s);
  let end = QUOTE_CHARS;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // do not cut a surrogate pair in two
  return JSON.stringify(`${s.slice(0, end)}…`);
}
