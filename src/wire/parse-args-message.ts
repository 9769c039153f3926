/**
 * Node's parseArgs errors end in advice about `--` meant for programmers
 * ("To specify a positional argument starting with a '-' …"); users get the first sentence.
 */
export function parseArgsMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) return msg;
  const cut = msg.indexOf('. To specify');
  return cut > 0 ? msg.slice(0, cut) : msg;
}

/** Whether a (sub)command's arguments ask for its usage. */
export const asksForHelp = (args: string[]) => args.includes('--help') || args.includes('-h');
