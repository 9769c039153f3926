/** An HTTP answer's body: its JSON when it is JSON, else the text (kept for the error message); null when empty. */
export function jsonOrText(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
