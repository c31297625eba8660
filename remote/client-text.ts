/**
 * Rendering client-supplied text (commands, ids, field values, parse errors) for error replies and
 * the server's log. A client controls these bytes, so they are clipped (one request cannot bloat the
 * log) and every character that could end a log line, move the cursor or reorder text is escaped
 * (one request cannot forge a line that looks like the server's own).
 */

/** Control characters (C0, DEL, C1), Unicode line/paragraph separators and bidi controls. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Escapes unsafe characters; the result is one printable line. */
export function escapeLine(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}

/** At most `max` characters of `s` (a note says how many were cut), then escaped. */
export function clipText(s: string, max = 64): string {
  if (s.length <= max) return escapeLine(s);
  return `${escapeLine(s.slice(0, max))}...(${s.length - max} more chars)`;
}

/**
 * A client value as it appears in a message: JSON (so strings show their quotes and escapes), clipped.
 * JSON.stringify leaves U+2028, DEL and C1 controls raw, so the clip escapes them too. Backslashes are
 * left as they are: they cannot end a line, and JSON's own escapes stay readable.
 */
export function show(v: unknown, max = 64): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return clipText(s, max);
}
