import { parseAllDocuments, parseDocument } from 'yaml';
import { z } from 'zod';
import type { PlanCheck } from '../wire/plan-view.js';

// The plan file: what an agent or a person proposes before anything runs. Every step is one
// Kubernetes change given as data (an object, a patch), never as shell text.

const name = z.string().min(1).max(253);
/** Control and formatting characters (ESC, CR, bidi overrides…) could redraw an approver's terminal. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}]/u;
const plain = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !UNPRINTABLE.test(s), 'plain text only: no control or formatting characters');
/** Plain text that may run over several lines. */
const prose = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine(
      (s) => !UNPRINTABLE.test(s.replaceAll('\n', '')),
      'plain text only: no control or formatting characters besides newlines',
    );
const ref = {
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string().min(1).max(63).optional(),
  name,
};
const Ref = z.strictObject(ref);
const Manifest = z
  .looseObject({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    metadata: z.looseObject({ name, namespace: z.string().min(1).max(63).optional() }),
  })
  .refine((o) => !('status' in o), 'apply the spec, not the status');

const Check = z.union([
  z.strictObject({ available: z.strictObject({ ...ref, replicas: z.number().int().min(0).optional() }) }),
  z.strictObject({
    noCrashLoop: z.strictObject({ namespace: z.string().min(1), selector: z.string().optional() }),
  }),
  z.strictObject({ exists: Ref }),
  z.strictObject({ absent: Ref }),
  z.strictObject({ equals: z.strictObject({ ...ref, field: z.string().min(1), value: z.unknown() }) }),
]);

/** Durations as plans write them: 90, "90s", "2m", "1h". */
const Duration = z.union([
  z.number().int().min(0).max(86_400),
  z
    .string()
    .regex(/^\d+(s|m|h)$/, 'a duration such as 30s, 5m or 1h')
    .transform((s) => Number(s.slice(0, -1)) * { s: 1, m: 60, h: 3600 }[s.slice(-1) as 's' | 'm' | 'h']),
]);

const checks = z.array(Check).max(20).default([]);
const stepBase = {
  name: plain(200).optional(),
  /** With several clusters behind kubegate: the step's cluster (default: the one the plan came through). */
  cluster: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'a cluster name')
    .optional(),
  checks,
  /** How long the step's checks may take to pass (default 2m). */
  timeout: Duration.refine((s) => s >= 1 && s <= 1800, 'a step timeout is 1s to 30m').optional(),
};

const Step = z.union([
  z.strictObject({ ...stepBase, apply: Manifest, force: z.boolean().optional() }),
  z.strictObject({ ...stepBase, scale: z.strictObject({ ...ref, replicas: z.number().int().min(0) }) }),
  z.strictObject({
    ...stepBase,
    patch: z.strictObject({
      ...ref,
      type: z.enum(['merge', 'strategic', 'json']),
      patch: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]),
    }),
  }),
  z.strictObject({ ...stepBase, delete: Ref }),
  z.strictObject({ ...stepBase, restart: Ref }),
]);

export const PlanSchema = z.strictObject({
  title: plain(200),
  why: prose(4000),
  estimate: plain(50).optional(),
  monitor: Duration.refine((s) => s <= 3600, 'monitor for at most 1h').optional(),
  steps: z.array(Step).min(1).max(50),
  rollback: z.array(Step).max(50).optional(),
  checks,
});

export type PlanDoc = z.infer<typeof PlanSchema>;
export type PlanStepDoc = z.infer<typeof Step>;
export type { PlanCheck };

export class PlanFormatError extends Error {
  override readonly name = 'PlanFormatError';
}

/** "steps[1].scale.replicas: expected number" for each problem, one per line. */
function explain(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const at = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `${at.replace(/^\./, '') || 'plan'}: ${i.message}`;
    })
    .join('\n');
}

export function validatePlan(doc: unknown): PlanDoc {
  const r = PlanSchema.safeParse(doc);
  if (!r.success) throw new PlanFormatError(`invalid plan:\n${explain(r.error)}`);
  return r.data;
}

/** A plan file (YAML or JSON): one document with title, why and steps. */
export function parsePlan(text: string): PlanDoc {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw new PlanFormatError(`plan is not valid YAML: ${doc.errors[0]!.message}`);
  return validatePlan(doc.toJS({ maxAliasCount: 0 }));
}

/**
 * A multi-document manifest file (what `kubectl apply -f` takes) as one plan: each object a
 * server-side apply step, in file order, approved together instead of held one by one.
 */
export function planFromManifests(text: string, title: string): PlanDoc {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const objects: unknown[] = [];
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length) throw new PlanFormatError(`manifests are not valid YAML: ${d.errors[0]!.message}`);
    const o = d.toJS({ maxAliasCount: 0 }) as unknown;
    if (o === null || o === undefined) continue;
    const list =
      (o as { kind?: unknown; items?: unknown }).kind === 'List' ? (o as { items: unknown[] }).items : [o];
    objects.push(...list);
  }
  if (!objects.length) throw new PlanFormatError('the manifest file holds no objects');
  return validatePlan({
    title,
    why: `apply ${objects.length} object${objects.length > 1 ? 's' : ''} as one plan`,
    steps: objects.map((apply) => ({ apply })),
  });
}
