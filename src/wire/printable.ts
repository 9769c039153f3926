/**
 * Text from a requester, made safe to print on an approver's terminal: control and formatting
 * characters (ESC sequences, CR, bidi overrides) shown as visible escapes, so nothing can move the
 * cursor, hide lines or reorder what the approver reads. Newlines only where `multiline` says so.
 */
export function printable(text: string, multiline = false): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, (c) =>
    multiline && c === '\n' ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`,
  );
}
