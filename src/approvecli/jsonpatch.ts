import type { Change } from './diff.js';
import { atPointer, formatValue, isObj, parsePointer, pointerPath } from './values.js';

export interface JsonPatchView {
  /** One line per operation, in order. */
  lines: string[];
  /** The same operations as field changes (for the rollback plan). */
  changes: Change[];
}

/**
 * Lists a JSON patch's (RFC 6902) operations with the live value each one
 * replaces or removes. Values are the live object's before the whole patch.
 */
export function jsonPatchView(live: unknown, ops: unknown): JsonPatchView {
  if (!Array.isArray(ops)) return { lines: [`not a list of operations: ${formatValue(ops)}`], changes: [] };
  const lines: string[] = [];
  const changes: Change[] = [];
  for (const raw of ops) {
    const op = isObj(raw) ? raw : {};
    const ptr = typeof op.path === 'string' ? op.path : '';
    const tokens = parsePointer(ptr);
    if (typeof op.op !== 'string' || !tokens) {
      lines.push(`malformed operation (the API server will refuse it): ${formatValue(raw)}`);
      continue;
    }
    const path = pointerPath(live, tokens);
    const before = atPointer(live, tokens);
    const parentIsList = Array.isArray(atPointer(live, tokens.slice(0, -1)));
    switch (op.op) {
      case 'replace':
        lines.push(`replace ${ptr}: ${formatValue(before)} -> ${formatValue(op.value)}`);
        changes.push({ kind: 'set', path, old: before, new: op.value });
        break;
      case 'add':
        if (parentIsList) {
          lines.push(`add ${ptr}: insert ${formatValue(op.value)}`);
          changes.push({ kind: 'set', path, old: undefined, new: op.value });
        } else {
          lines.push(`add ${ptr}: ${formatValue(before)} -> ${formatValue(op.value)}`);
          changes.push({ kind: 'set', path, old: before, new: op.value });
        }
        break;
      case 'remove':
        lines.push(`remove ${ptr}: ${formatValue(before)} -> (removed)`);
        changes.push({ kind: 'remove', path, old: before });
        break;
      case 'move':
      case 'copy': {
        const from = typeof op.from === 'string' ? op.from : '(no from)';
        const fromTokens = parsePointer(from);
        const value = fromTokens ? atPointer(live, fromTokens) : undefined;
        lines.push(
          `${op.op} ${from} -> ${ptr} (value ${formatValue(value)}${before !== undefined ? `, replacing ${formatValue(before)}` : ''})`,
        );
        changes.push({ kind: 'set', path, old: before, new: value });
        if (op.op === 'move' && fromTokens)
          changes.push({ kind: 'remove', path: pointerPath(live, fromTokens), old: value });
        break;
      }
      case 'test':
        lines.push(`test ${ptr} == ${formatValue(op.value)} (now ${formatValue(before)})`);
        break;
      default:
        lines.push(`unknown operation "${op.op}" (the API server will refuse it): ${formatValue(raw)}`);
    }
  }
  return { lines, changes };
}
