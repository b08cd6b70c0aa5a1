// The continuation message a fan-out publishes to itself when an invocation runs out of time (QStash body).
import { z } from 'zod';
import { TaskId } from '../domain/ids.js';

export const CONTINUE_PATH = '/internal/scheduler/continue';

export const ContinuationMessage = z.strictObject({
  v: z.literal(1),
  taskId: TaskId,
  group: z.string().regex(/^[A-Za-z0-9_+\-/]{1,64}$/, 'an IANA zone name or "_"'),
  periodKey: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a period key'),
  /** Fence of the owner that handed over: only the slot's current owner can pass it on. */
  fence: z.number().int().positive(),
});
export type ContinuationMessage = z.output<typeof ContinuationMessage>;
