// A batch's QStash deduplication id: derived from its jobs, so the same jobs published again are dropped by QStash.
import { createHash } from 'node:crypto';
import type { BatchMessage } from '../domain/batch.js';

/**
 * The same jobs make the same id, so a page re-published after a crash (the plan is deterministic for a slot) is
 * dropped by QStash instead of delivered twice; a different set of users (one added or removed meanwhile) makes
 * another id, and the claims keep its jobs to one run each.
 */
export function batchIdOf(batch: Pick<BatchMessage, 'taskId' | 'periodKey' | 'jobs'>): string {
  const h = createHash('sha256');
  for (const j of batch.jobs) h.update(`${j.userId}\n`);
  return `batch:${batch.taskId}:${batch.periodKey}:${h.digest('hex').slice(0, 32)}`;
}
