/** Control and formatting characters, line and paragraph separators, every space but the plain one. */
const NOT_PLAIN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;

/**
 * Text from a requester, made safe to print on an approver's terminal: control and formatting
 * characters (ESC sequences, CR, bidi overrides) shown as visible escapes, so nothing can move the
 * cursor, hide lines or reorder what the approver reads; separators and look-alike spaces too, so
 * no value passes for another ("v\u2028w" printed raw reads "v w"). Newlines only where
 * `multiline` says so.
 */
export function printable(text: string, multiline = false): string {
  return text.replace(NOT_PLAIN, (c) =>
    multiline && c === '\n' ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
}
